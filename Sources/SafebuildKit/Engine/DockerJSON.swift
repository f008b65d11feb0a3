import Foundation

/// The JSON that the engine API, the docker CLI and docker's config files answer, as Codable structs with only the
/// fields safebuild reads (moby api/types, docker/cli cli/config and cli/context/store). Decoded with Foundation's
/// JSONDecoder, like the journal: one JSON stack.
package enum DockerJSON {
    /// The value, or nil when the text is not JSON of that shape.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }

    package static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        decode(type, from: Array(text.utf8))
    }

    /// `GET /version`, and `.Server` of `docker version`.
    package struct Version: Decodable, Sendable, Equatable {
        package var version: String?
        package var apiVersion: String?

        enum CodingKeys: String, CodingKey {
            case version = "Version"
            case apiVersion = "ApiVersion"
        }
    }

    /// `GET /info`, and `docker info --format '{{json .}}'`.
    package struct Info: Decodable, Sendable, Equatable {
        package var rootDir: String?
        package var cgroupVersion: String?
        package var cgroupDriver: String?
        package var warnings: [String]?
        package var swapLimit: Bool?

        enum CodingKeys: String, CodingKey {
            case rootDir = "DockerRootDir"
            case cgroupVersion = "CgroupVersion"
            case cgroupDriver = "CgroupDriver"
            case warnings = "Warnings"
            case swapLimit = "SwapLimit"
        }
    }

    /// `GET /system/df`.
    package struct SystemDF: Decodable, Sendable, Equatable {
        package var buildCache: [BuildCacheRecord]?

        enum CodingKeys: String, CodingKey {
            case buildCache = "BuildCache"
        }
    }

    /// One record of `BuildCache` in `GET /system/df`.
    package struct BuildCacheRecord: Decodable, Sendable, Equatable {
        package var size: Int64?
        package var inUse: Bool?
        package var shared: Bool?

        package init(size: Int64?, inUse: Bool?, shared: Bool?) {
            self.size = size
            self.inUse = inUse
            self.shared = shared
        }

        enum CodingKeys: String, CodingKey {
            case size = "Size"
            case inUse = "InUse"
            case shared = "Shared"
        }
    }

    /// One record of `docker system df -v --format '{{json .BuildCache}}'`: the CLI renders `Size` as text ("110B")
    /// and `InUse`/`Shared` as "true"/"false".
    package struct CLIBuildCacheRecord: Decodable, Sendable, Equatable {
        package var size: String?
        package var inUse: String?
        package var shared: String?

        enum CodingKeys: String, CodingKey {
            case size = "Size"
            case inUse = "InUse"
            case shared = "Shared"
        }
    }

    /// One image of `GET /images/json`.
    package struct ImageSummary: Decodable, Sendable, Equatable {
        package var size: Int64?

        enum CodingKeys: String, CodingKey {
            case size = "Size"
        }
    }

    /// docker's `config.json`.
    package struct ConfigFile: Decodable, Sendable, Equatable {
        package var currentContext: String?
        /// `{"builder": "buildx"}` after `docker buildx install` (docker/cli cli/config/configfile `Aliases`).
        package var aliases: [String: String]?
        /// Where else the CLI looks for plugins (docker/cli cli-plugins/manager `getPluginDirs`).
        package var cliPluginsExtraDirs: [String]?
    }

    /// A context's `meta.json` (`contexts/meta/<sha256 of the name>/meta.json`).
    package struct ContextMeta: Decodable, Sendable, Equatable {
        package var endpoints: Endpoints?

        package struct Endpoints: Decodable, Sendable, Equatable {
            package var docker: Endpoint?
        }

        package struct Endpoint: Decodable, Sendable, Equatable {
            package var host: String?

            enum CodingKeys: String, CodingKey {
                case host = "Host"
            }
        }

        enum CodingKeys: String, CodingKey {
            case endpoints = "Endpoints"
        }
    }
}
