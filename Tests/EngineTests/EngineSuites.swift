import Testing

/// Every real-engine suite shares one engine (its build cache, images, containers and the kernel's OOM log), and some
/// prune or fill it: they are nested here so that they run one at a time. None is ever skipped: without an engine
/// they fail, saying how to start one (Scripts/engine.sh).
@Suite(.serialized) enum EngineSuites {}
