package dev.llmrouter.client.junit;

import dev.llmrouter.client.LlmRouterClient;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * For tests of services that call an llm-router replaying cassettes: every call made through a client this
 * extension gives out carries {@code x-cassette-scope: <test class simple name>/<test method name>}, so each test
 * method records into, and replays from, its own cassette folder. Calls made outside a test method (in
 * {@code @BeforeAll}) use {@code <test class simple name>}.
 *
 * <pre>
 * &#64;CassetteScoped  // or &#64;ExtendWith(CassetteScopeExtension.class)
 * class SummarizerTest {
 *   &#64;Test
 *   void summarizesAReview(LlmRouterClient router) {  // a client of the router at LLMROUTER_TARGET
 *     assertEquals("Great food, slow service.", new Summarizer(router).summarize(REVIEW));
 *   }
 * }
 * </pre>
 *
 * Parameters it resolves, in test methods, constructors and lifecycle methods:
 * <ul>
 *   <li>{@link LlmRouterClient}: a plain-text client of the router at {@code host:port} from the system property or
 *   environment variable {@value #TARGET_VARIABLE}; closed when the test (or class, for {@code @BeforeAll}) ends;
 *   <li>{@link ClientInterceptor}: the interceptor that adds the scope, for channels the test builds itself
 *   ({@code ClientInterceptors.intercept(channel, scope)}, or {@link LlmRouterClient.Builder#intercept}).
 * </ul>
 *
 * The scope is read at each call, so it also follows calls the service makes from its own threads. Tests of one
 * class must therefore run one at a time (JUnit's default).
 */
public final class CassetteScopeExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

  /** The call metadata that names the cassette folder. */
  public static final String SCOPE_HEADER = "x-cassette-scope";
  /** The system property, or else environment variable, holding the router's {@code host:port}. */
  public static final String TARGET_VARIABLE = "LLMROUTER_TARGET";

  private static final Metadata.Key<String> SCOPE_KEY = Metadata.Key.of(SCOPE_HEADER, Metadata.ASCII_STRING_MARSHALLER);
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
      CassetteScopeExtension.class);

  private final ClientInterceptor interceptor = new ScopeInterceptor();
  private final Function<ExtensionContext, String> target;
  private volatile String scope;

  /** Scopes the calls to the router at {@value #TARGET_VARIABLE}. */
  public CassetteScopeExtension() {
    this(context -> targetFromEnvironment());
  }

  /** Scopes the calls to the router at {@code target} ({@link LlmRouterExtension}'s own router). */
  CassetteScopeExtension(Function<ExtensionContext, String> target) {
    this.target = target;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    scope = context.getRequiredTestClass().getSimpleName();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    scope = context.getRequiredTestClass().getSimpleName() + "/" + context.getRequiredTestMethod().getName();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    scope = context.getRequiredTestClass().getSimpleName();
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == LlmRouterClient.class || type == ClientInterceptor.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (parameter.getParameter().getType() == ClientInterceptor.class) {
      return interceptor;
    }
    LlmRouterClient client = LlmRouterClient.builder().target(target.apply(context)).intercept(interceptor).build();
    context.getStore(NAMESPACE).put(client, (ExtensionContext.Store.CloseableResource) client::close);
    return client;
  }

  private static String targetFromEnvironment() {
    String target = System.getProperty(TARGET_VARIABLE, System.getenv(TARGET_VARIABLE));
    if (target == null || target.isBlank()) {
      throw new ParameterResolutionException("set " + TARGET_VARIABLE + " (system property or environment variable) "
          + "to the host:port of the router the tests call, e.g. 127.0.0.1:50051");
    }
    return target;
  }

  /** Adds the current scope to every call. */
  private final class ScopeInterceptor implements ClientInterceptor {
    @Override
    public <Req, Resp> ClientCall<Req, Resp> interceptCall(MethodDescriptor<Req, Resp> method, CallOptions options,
        Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<Resp> listener, Metadata headers) {
          String current = scope;
          // Null only when the extension was registered too late to see its test class: the router's default scope.
          if (current != null) {
            headers.put(SCOPE_KEY, current);
          }
          super.start(listener, headers);
        }
      };
    }
  }
}
