import Glibc

/// The host's physical memory.
package enum PhysicalMemory {
    /// Bytes (MemTotal), from sysconf(3); nil when it cannot be read.
    package static func total() -> UInt64? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return nil }
        return UInt64(pages) * UInt64(size)
    }
}
