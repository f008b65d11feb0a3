/// `safebuild policy suggest`: memory rules for the policy from what the journal measured, as YAML to paste under
/// `rules:`. Each rule is the p95 peak of an image's or a CI job's successful attempts plus the headroom, rounded up
/// to 64 MiB, with the evidence as comments. Pure: the journal's contents in, text out.
package enum PolicySuggestion {
    package static func yaml(
        _ contents: JournalContents, journalPath: String, headroom: Double, minimumRuns: Int,
        filter: JournalFilter = JournalFilter()
    ) -> String {
        let (images, jobs) = MemoryProfile.profiles(contents, filter: filter)
        var lines = [
            "# safebuild policy suggest: memory rules from the journal \(journalPath)",
            "# each: the p95 peak of the successful attempts + \(ConsoleReport.number(headroom))% headroom, rounded up to 64m;",
            "# images and jobs with fewer than \(minimumRuns) measured peaks are listed without a rule.",
            "# A job rule comes after the image rules, so that it wins where both match (a later rule wins).",
        ]
        var rules: [String] = []
        var skipped: [String] = []
        for profile in images + jobs {
            let evidence = "\(profile.kind.rawValue) \(profile.name): \(profile.runs) run(s), \(profile.peaks.count) peak(s) measured"
                + (profile.p50.map { ", p50 \(AdmissionProgress.bytes($0))" } ?? "")
                + (profile.p95.map { ", p95 \(AdmissionProgress.bytes($0))" } ?? "")
                + (profile.max.map { ", max \(AdmissionProgress.bytes($0))" } ?? "")
                + ", \(profile.oomKills) OOM kill(s) (\(profile.ownLimitKills) own limit, \(profile.poolKills) pool)"
            guard profile.peaks.count >= minimumRuns, let bytes = profile.suggested(headroom: headroom) else {
                skipped.append("#   " + evidence)
                continue
            }
            rules.append("  # " + evidence)
            rules.append("  - match: {\(profile.kind.rawValue): \(PolicyShow.yamlString(Self.literalGlob(profile.name)))}")
            rules.append("    memory: \(Size.format(bytes))")
        }
        lines.append(rules.isEmpty ? "rules: []" : "rules:")
        lines += rules
        if !skipped.isEmpty {
            lines.append("# Too few measured peaks for a rule:")
            lines += skipped
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `name` as a glob that matches only itself: the glob's special characters escaped (`\*`).
    static func literalGlob(_ name: String) -> String {
        var out = ""
        for c in name {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
