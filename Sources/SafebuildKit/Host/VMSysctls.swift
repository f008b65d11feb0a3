/// The `vm.*` sysctls that decide how the kernel reclaims memory under a build.
package struct VMSysctls: Codable, Sendable, Equatable {
    package var swappiness: Int?
    package var minFreeKbytes: Int?
    package var overcommitMemory: Int?
    package var overcommitRatio: Int?
    package var vfsCachePressure: Int?

    package static let directory = "/proc/sys/vm"
    package static let names = ["swappiness", "min_free_kbytes", "overcommit_memory", "overcommit_ratio", "vfs_cache_pressure"]

    /// Builds the value from each file's text (nil: file absent).
    package static func parse(_ files: [String: String]) throws(ProbeError) -> VMSysctls {
        func value(_ name: String) throws(ProbeError) -> Int? {
            guard let text = files[name] else { return nil }
            let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? ""
            guard let n = Int(trimmed) else {
                throw ProbeError("\(directory)/\(name)", "not a number: \"\(text.prefix(40))\"")
            }
            return n
        }
        return VMSysctls(
            swappiness: try value("swappiness"), minFreeKbytes: try value("min_free_kbytes"),
            overcommitMemory: try value("overcommit_memory"), overcommitRatio: try value("overcommit_ratio"),
            vfsCachePressure: try value("vfs_cache_pressure"))
    }
}
