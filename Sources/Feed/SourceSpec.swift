/// A market-data source as named on the command line (`--source KIND:ARGUMENT`), parsed once by
/// every command that reads one (`feed`, `features`, `strategy`'s benchmark feed, the backtest):
///
/// | spec | source |
/// |---|---|
/// | `synthetic:SEED` | the seeded synthetic flow (`SyntheticSource`) |
/// | `itch:FILE[.gz]` | an ITCH 5.0 BinaryFILE, plain or gzip (`ITCHSource`) |
/// | `itch+moldudp64:ADDR:PORT` | ITCH 5.0 in MoldUDP64 over UDP; requests go to PORT+1 (`MoldUDP64Source`) |
/// | `tickbus+moldudp64:ADDR:PORT[,request=ADDR:PORT][,interface=IF][,idle=S]` | a ring republished by `tickbus republish` (`TickBusMoldUDP64Source`) |
/// | `lobster:MESSAGES.csv,ORDERBOOK.csv` | a LOBSTER pair; levels from the order-book file's columns (`LOBSTERSource`) |
/// | `journal:DIR` | the market ring of a recorded session (`JournalSource`, in `Replay`) |
///
/// Parsing checks only the spec's shape; opening a source (`open(_:log:)`) is where files and
/// sockets are touched, so a bad spec fails before anything is created.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    case synthetic(seed: UInt64)
    case itch(path: String)
    case itchMoldUDP64(group: String)
    case tickbusMoldUDP64(TickBusMoldUDP64Endpoint)
    case lobster(messages: String, orderbook: String)
    case journal(directory: String)

    /// The kinds, in the order the help and the errors list them.
    public static let kinds = ["synthetic", "itch", "itch+moldudp64", "tickbus+moldudp64", "lobster", "journal"]

    /// Parses `KIND:ARGUMENT`.
    /// - Throws: `SourceSpecError` naming the spec and what is wrong with it.
    public init(parsing spec: String) throws(SourceSpecError) {
        guard let colon = spec.firstIndex(of: ":") else { throw .missingKind(spec: spec) }
        let kind = String(spec[..<colon])
        let argument = String(spec[spec.index(after: colon)...])
        switch kind {
        case "synthetic":
            guard let seed = UInt64(argument) else { throw .badSeed(spec: spec, argument: argument) }
            self = .synthetic(seed: seed)
        case "itch": self = .itch(path: argument)
        case "itch+moldudp64": self = .itchMoldUDP64(group: argument)
        case "tickbus+moldudp64":
            do { self = .tickbusMoldUDP64(try TickBusMoldUDP64Endpoint(parsing: argument)) } catch {
                throw .badEndpoint(spec: spec, reason: error.description)
            }
        case "lobster":
            let parts = argument.split(separator: ",", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .lobsterNeedsTwoFiles(spec: spec, argument: argument) }
            self = .lobster(messages: parts[0], orderbook: parts[1])
        case "journal": self = .journal(directory: argument)
        default: throw .unknownKind(spec: spec, kind: kind)
        }
    }

    /// The kind before the colon.
    public var kind: String {
        switch self {
        case .synthetic: return "synthetic"
        case .itch: return "itch"
        case .itchMoldUDP64: return "itch+moldudp64"
        case .tickbusMoldUDP64: return "tickbus+moldudp64"
        case .lobster: return "lobster"
        case .journal: return "journal"
        }
    }

    /// The argument after the colon, as it was given.
    public var argument: String {
        switch self {
        case .synthetic(let seed): return "\(seed)"
        case .itch(let path): return path
        case .itchMoldUDP64(let group): return group
        case .tickbusMoldUDP64(let endpoint): return endpoint.text
        case .lobster(let messages, let orderbook): return "\(messages),\(orderbook)"
        case .journal(let directory): return directory
        }
    }

    /// `KIND:ARGUMENT`.
    public var description: String { "\(kind):\(argument)" }
}

/// A `--source` that does not parse; the message names the spec and what is wrong.
public enum SourceSpecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No `KIND:` prefix.
    case missingKind(spec: String)
    /// `synthetic:` with something other than an unsigned integer.
    case badSeed(spec: String, argument: String)
    /// `lobster:` without two comma-separated files.
    case lobsterNeedsTwoFiles(spec: String, argument: String)
    /// A kind that is not one of `SourceSpec.kinds`.
    case unknownKind(spec: String, kind: String)
    /// `tickbus+moldudp64:` whose address or options do not parse.
    case badEndpoint(spec: String, reason: String)

    public var description: String {
        switch self {
        case .missingKind(let spec):
            return "--source '\(spec)': expected KIND:ARGUMENT, e.g. synthetic:42"
        case .badSeed(_, let argument):
            return "--source synthetic:SEED needs an integer seed, got '\(argument)'"
        case .lobsterNeedsTwoFiles(_, let argument):
            return "--source lobster:MESSAGES.csv,ORDERBOOK.csv, got '\(argument)'"
        case .badEndpoint(let spec, let reason):
            return
                "--source '\(spec)': \(reason) (tickbus+moldudp64:ADDR:PORT[,request=ADDR:PORT][,interface=IF][,idle=S])"
        case .unknownKind(let spec, let kind):
            return "--source '\(spec)': unknown kind '\(kind)' (\(SourceSpec.kinds.joined(separator: ", ")))"
        }
    }
}

/// A source that parsed but could not be opened (a missing file, a port in use); keeps the cause.
public struct SourceOpenError: Error, Equatable, CustomStringConvertible {
    /// The spec being opened.
    public let spec: SourceSpec
    /// Why the source's initialiser refused.
    public let cause: FeedError

    public init(spec: SourceSpec, cause: FeedError) {
        self.spec = spec
        self.cause = cause
    }

    public var description: String { "--source \(spec): \(cause)" }
}
