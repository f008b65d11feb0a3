/// How the build cache's size is asked of the engine.
///
/// `GET /system/df` computes the size of every image, container and volume before it answers, and its time grows with
/// them: 670–870 ms with 300 images and 150 stopped containers here (docker 20.10, vfs). From API 1.42 (docker 23) it
/// takes a `type` query parameter and computes only the types asked for; an older API, or a request without `type`,
/// computes everything (moby api/server/router/system/system_routes.go, getDiskUsage:
/// `if versions.LessThan(version, "1.42") || !ok { getContainers, getImages, getVolumes, getBuildCache = true, … }`;
/// docs/api/version-history.md, v1.42: "`GET /system/df` now accepts query parameter `type`"). The request names
/// version 1.42 in its path, so a newer daemon answers in the 1.42 shape (`BuildCache` records).
package enum BuildCacheQuery {
    /// The first API version whose `/system/df` computes only the types asked for.
    package static let typedSince = APIVersion(1, 42)
    /// Everything, as every API version answers it.
    package static let fullPath = "/system/df"
    /// The build cache alone.
    package static let typedPath = "/v1.42/system/df?type=build-cache"

    /// The request that asks an engine speaking `apiVersion` for its build cache alone; nil when that engine would
    /// compute everything whatever it is asked (before 1.42, or an unknown version).
    package static func typed(apiVersion: String?) -> String? {
        guard let text = apiVersion, let version = APIVersion(text), version >= typedSince else { return nil }
        return typedPath
    }
}
