package dev.llmrouter.client.junit;

import dev.llmrouter.client.LlmRouterClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Starts a router for a test class, as WireMock or Testcontainers start what a test needs: before the class's first
 * test, on a free port, over a cassette folder; stopped after its last test. It replays by default (a call with no
 * cassette fails with FAILED_PRECONDITION, never reaching a provider); with the system property
 * {@code -Dllmrouter.mode=record} (or {@code auto}, {@code off}) it records, which needs the provider keys in the
 * environment. As with {@link CassetteScoped}, each test method records into and replays from its own folder,
 * {@code <cassettes>/<test class simple name>/<test method name>/}.
 *
 * <pre>
 * &#64;LlmRouterTest(cassettes = "src/test/cassettes")
 * class SummarizerTest {
 *   &#64;Test
 *   void summarizesAReview(LlmRouterClient router) {
 *     assertEquals("Cold food, kind service.", new Summarizer(router).summarize(REVIEW));
 *   }
 * }
 *
 * class SupportBotTest {
 *   &#64;RegisterExtension
 *   static final LlmRouterExtension ROUTER = LlmRouterExtension.builder()
 *       .cassettes("src/test/cassettes").config("src/test/llm-router.yaml").build();
 *
 *   &#64;Test
 *   void answersThroughTheOpenAiSdk(RouterAddress router) {
 *     OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(router.openAiBaseUrl()).apiKey("unused").build();
 *   }
 * }
 * </pre>
 *
 * Parameters it resolves, in test methods, constructors and lifecycle methods: {@link LlmRouterClient} (a client of
 * this router that sends the test's scope, closed after the test), {@link io.grpc.ClientInterceptor} (the scope, for a
 * channel the service builds itself) and {@link RouterAddress} (the gRPC target and the SDKs' base URLs). A service
 * that calls through an SDK sends the scope itself, as the header {@code x-cassette-scope}.
 *
 * <p><b>A child process, not in-process.</b> The router runs as {@code java -jar} on its runnable artifact
 * ({@code dev.llmrouter:llm-router-server:VERSION:jar:runnable}), found as {@link RouterJar} says: in the tests' JVM, the
 * router would bring Vert.x, Netty 4.2, Jackson and its other libraries onto the class path of the code under test,
 * whose own versions of them would then clash with the router's; as a process it needs nothing from the test's class
 * path, starts as in production, and starting it costs about a second per test class.
 */
public final class LlmRouterExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

  /** The system property that picks the cassette mode: {@code replay} (the default), {@code record}, {@code auto}. */
  public static final String MODE_PROPERTY = "llmrouter.mode";
  static final String DEFAULT_CASSETTES = "src/test/cassettes";

  private static final String DEFAULT_MODE = "replay";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
      LlmRouterExtension.class);

  private final Optional<Settings> configured;
  private final CassetteScopeExtension scope = new CassetteScopeExtension(context -> router(context).target());
  private volatile RouterAddress address;

  /** What the router is started with. */
  private record Settings(String cassettes, Optional<String> config, Map<String, String> environment) {
  }

  /** For {@link LlmRouterTest}: the settings come from the test class's annotation. */
  public LlmRouterExtension() {
    this.configured = Optional.empty();
  }

  private LlmRouterExtension(Settings settings) {
    this.configured = Optional.of(settings);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The router of the running test class, once it has started (from {@code @BeforeAll} on). */
  public RouterAddress address() {
    if (address == null) {
      throw new IllegalStateException("the router has not started: register LlmRouterExtension on a static field "
          + "and ask for its address from @BeforeAll or a test on");
    }
    return address;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    router(context);
    scope.beforeAll(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    scope.beforeEach(context);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    scope.afterEach(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RouterAddress.class || scope.supportsParameter(parameter, context);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RouterAddress.class ? router(context)
        : scope.resolveParameter(parameter, context);
  }

  /**
   * The test class's router, started on first use and kept in the class's store, which closes it after the class (a
   * nested class uses its enclosing class's router).
   */
  private RouterAddress router(ExtensionContext context) {
    ExtensionContext testClass = testClassOf(context);
    RouterProcess router = testClass.getStore(NAMESPACE).getOrComputeIfAbsent(RouterProcess.class,
        type -> start(settings(testClass)), RouterProcess.class);
    address = router.address();
    return address;
  }

  /** The context of the test class: up from a test, or from one invocation of a parameterized or repeated test. */
  private static ExtensionContext testClassOf(ExtensionContext context) {
    return context.getTestMethod().isPresent() ? testClassOf(context.getParent().orElseThrow()) : context;
  }

  private Settings settings(ExtensionContext context) {
    return configured.orElseGet(() -> {
      LlmRouterTest annotation = AnnotationSupport.findAnnotation(context.getRequiredTestClass(), LlmRouterTest.class)
          .orElseThrow(() -> new IllegalStateException("LlmRouterExtension needs @LlmRouterTest on "
              + context.getRequiredTestClass().getName() + ", or a @RegisterExtension field built with "
              + "LlmRouterExtension.builder()"));
      return new Settings(annotation.cassettes(), Optional.of(annotation.config()).filter(file -> !file.isEmpty()),
          Map.of());
    });
  }

  private static RouterProcess start(Settings settings) {
    List<String> flags = new ArrayList<>(List.of("--mode", System.getProperty(MODE_PROPERTY, DEFAULT_MODE),
        "--cassettes", Path.of(settings.cassettes()).toAbsolutePath().toString()));
    settings.config().ifPresent(file -> flags.addAll(List.of("--config", Path.of(file).toAbsolutePath().toString())));
    return RouterProcess.start(RouterJar.find(), flags, settings.environment(), START_TIMEOUT);
  }

  /** The settings of a router registered with {@code @RegisterExtension}. */
  public static final class Builder {
    private String cassettes = DEFAULT_CASSETTES;
    private Optional<String> config = Optional.empty();
    private final Map<String, String> environment = new LinkedHashMap<>();

    private Builder() {
    }

    /** The cassette folder, relative to the working directory; {@code src/test/cassettes} unless set. */
    public Builder cassettes(String folder) {
      this.cassettes = folder;
      return this;
    }

    /** The router's YAML config file, relative to the working directory; the embedded default unless set. */
    public Builder config(String file) {
      this.config = Optional.of(file);
      return this;
    }

    /** A variable added to the router's environment (which is the tests' own otherwise), for the config's ${NAME}. */
    public Builder environment(String name, String value) {
      environment.put(name, value);
      return this;
    }

    public LlmRouterExtension build() {
      return new LlmRouterExtension(new Settings(cassettes, config, Map.copyOf(environment)));
    }
  }
}
