package dev.llmrouter.server.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * An OpenTelemetry collector stand-in: it takes trace exports as a collector does, over OTLP/HTTP (`POST /v1/traces`,
 * protobuf) on one free port and over OTLP/gRPC on another, decodes each `ExportTraceServiceRequest`, and keeps every
 * span with its resource.
 */
public final class TraceReceiver implements AutoCloseable {

  /** One exported span and the resource (service) that exported it. */
  public record ReceivedSpan(Resource resource, Span span) {

    public String name() {
      return span.getName();
    }

    public String traceId() {
      return HexFormat.of().formatHex(span.getTraceId().toByteArray());
    }

    public String spanId() {
      return HexFormat.of().formatHex(span.getSpanId().toByteArray());
    }

    /** The parent's span id; empty for a root span. */
    public String parentSpanId() {
      return HexFormat.of().formatHex(span.getParentSpanId().toByteArray());
    }

    /** The span's attributes by name. */
    public Map<String, AnyValue> attributes() {
      return span.getAttributesList().stream().collect(Collectors.toMap(KeyValue::getKey, KeyValue::getValue));
    }

    /** A string attribute; empty when the span has none of that name. */
    public String string(String name) {
      return attributes().getOrDefault(name, AnyValue.getDefaultInstance()).getStringValue();
    }

    public String resourceAttribute(String name) {
      return resource.getAttributesList().stream().filter(kv -> kv.getKey().equals(name)).findFirst()
          .map(kv -> kv.getValue().getStringValue()).orElse("");
    }
  }

  private final HttpServer server;
  private final Server grpc;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();

  private TraceReceiver(Vertx vertx) {
    server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      if (!request.path().equals("/v1/traces")) {
        request.response().setStatusCode(404).end();
        return;
      }
      try {
        keep(ExportTraceServiceRequest.parseFrom(body.getBytes()));
      } catch (InvalidProtocolBufferException e) {
        request.response().setStatusCode(400).end(e.getMessage());
        return;
      }
      request.response().putHeader("content-type", "application/x-protobuf")
          .end(Buffer.buffer(ExportTraceServiceResponse.getDefaultInstance().toByteArray()));
    }));
    grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest export,
              StreamObserver<ExportTraceServiceResponse> response) {
            keep(export);
            response.onNext(ExportTraceServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        }).build();
  }

  public static TraceReceiver start(Vertx vertx) {
    TraceReceiver receiver = new TraceReceiver(vertx);
    Await.result(receiver.server.listen(0, "127.0.0.1"));
    try {
      receiver.grpc.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return receiver;
  }

  private void keep(ExportTraceServiceRequest export) {
    for (ResourceSpans resourceSpans : export.getResourceSpansList()) {
      for (ScopeSpans scopeSpans : resourceSpans.getScopeSpansList()) {
        scopeSpans.getSpansList().forEach(span -> spans.add(new ReceivedSpan(resourceSpans.getResource(), span)));
      }
    }
  }

  /** The base URL of OTLP/HTTP, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** The URL of OTLP/gRPC, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
  public String grpcEndpoint() {
    return "http://127.0.0.1:" + grpc.getPort();
  }

  /** The spans received so far. */
  public List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  /** The spans that {@code match}, once at least {@code count} of them came (or 10 seconds passed). */
  public List<ReceivedSpan> await(Predicate<ReceivedSpan> match, int count) {
    Await.until(Duration.ofSeconds(10), () -> spans.stream().filter(match).count() >= count);
    return spans.stream().filter(match).toList();
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    Await.result(server.close());
  }
}
