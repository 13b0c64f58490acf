import NIOCore
import NIOHTTP1
import NIOPosix
import TickBusCore

/// The `/metrics` HTTP endpoint (SwiftNIO, one event-loop thread). Each GET reads the bus afresh:
/// segments are mapped and only loaded from, so a scrape never slows a producer.
public final class MetricsServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    /// The port bound (useful when asked for port 0).
    public let port: Int
    public let host: String

    /// Binds `host:port` (port 0 picks a free one) and serves `/metrics` for `bus`.
    public static func start(
        host: String,
        port: Int,
        bus: String,
        tracker: SnapshotTracker = SnapshotTracker()
    ) throws -> MetricsServer {
        try serve(host: host, port: port, source: .bus(bus, tracker), about: "tickbus telemetry for bus \(bus)")
    }

    /// Binds `host:port` and serves `/metrics` from `text`: the exposition another process
    /// (the drift monitor) renders itself and replaces whole as it changes.
    public static func start(host: String, port: Int, text: MetricsText, about: String) throws -> MetricsServer {
        try serve(host: host, port: port, source: .text(text), about: about)
    }

    static func serve(host: String, port: Int, source: MetricsHandler.Source, about: String) throws -> MetricsServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHandler(source: source, about: about))
                    }
                }
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port)
                .wait()
            let bound = channel.localAddress?.port ?? port
            return MetricsServer(group: group, channel: channel, port: bound, host: host)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    init(group: MultiThreadedEventLoopGroup, channel: any Channel, port: Int, host: String) {
        self.group = group
        self.channel = channel
        self.port = port
        self.host = host
    }

    /// Closes the listening socket and stops the event loop.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Answers `GET /metrics` with the exposition text, `GET /` with a pointer to it, anything else 404.
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum Source: Sendable {
        case bus(String, SnapshotTracker)
        case text(MetricsText)
    }
    let source: Source
    let about: String
    var head: HTTPRequestHead?

    init(source: Source, about: String) {
        self.source = source
        self.about = about
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let h = head else { return }
            head = nil
            let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
            let status: HTTPResponseStatus
            let body: String
            var contentType = "text/plain; charset=utf-8"
            if h.method != .GET && h.method != .HEAD {
                status = .methodNotAllowed
                body = "only GET\n"
            } else if path == "/metrics" {
                status = .ok
                switch source {
                case .bus(let bus, let tracker): body = PrometheusExposition.scrape(bus: bus, tracker: tracker)
                case .text(let t): body = t.get()
                }
                contentType = PrometheusExposition.contentType
            } else if path == "/" {
                status = .ok
                body = "\(about): GET /metrics\n"
            } else {
                status = .notFound
                body = "not found: \(path) (try /metrics)\n"
            }
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
            let keepAlive = h.isKeepAlive
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))),
                promise: nil
            )
            if h.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { loopBound.value.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// An exposition text replaced whole by its writer and served as it is by `MetricsServer`.
public final class MetricsText: Sendable {
    let lock = PthreadLock()
    nonisolated(unsafe) var text = ""

    public init() {}

    /// Replaces the text (the writer's thread).
    public func set(_ s: String) { lock.withLock { text = s } }

    /// The text now (the server's thread).
    public func get() -> String { lock.withLock { text } }
}
