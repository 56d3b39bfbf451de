package dev.llmrouter.server;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

/**
 * The server's packages depend one way (ARCHITECTURE.md section 1): each layer uses only the layers below it, so a
 * later change that closes a circle (a provider reaching into the pipeline, say) fails the build.
 */
@AnalyzeClasses(packages = "dev.llmrouter.server", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule LAYERS_DEPEND_ONE_WAY = layeredArchitecture().consideringOnlyDependenciesInLayers()
      .layer("cli").definedBy("dev.llmrouter.server.cli..")
      .layer("server").definedBy("dev.llmrouter.server")
      .layer("api").definedBy("dev.llmrouter.server.api..", "dev.llmrouter.server.admin..")
      .layer("ingress").definedBy("dev.llmrouter.server.ingress..")
      .layer("converse").definedBy("dev.llmrouter.server.converse..")
      .layer("state").definedBy("dev.llmrouter.server.state..")
      .layer("pipeline").definedBy("dev.llmrouter.server.pipeline..")
      .layer("auth").definedBy("dev.llmrouter.server.auth..")
      .layer("route").definedBy("dev.llmrouter.server.route..")
      .layer("prompt").definedBy("dev.llmrouter.server.prompt..")
      .layer("observe").definedBy("dev.llmrouter.server.observe..")
      .layer("tls").definedBy("dev.llmrouter.server.tls..")
      .layer("config").definedBy("dev.llmrouter.server.config..")
      .layer("provider").definedBy("dev.llmrouter.server.provider..")
      .layer("answer").definedBy("dev.llmrouter.server.answer..")
      .whereLayer("cli").mayNotBeAccessedByAnyLayer()
      .whereLayer("server").mayOnlyAccessLayers("api", "ingress", "converse", "state", "pipeline", "auth", "route",
          "observe", "tls", "config", "provider", "answer", "prompt")
      .whereLayer("api").mayOnlyAccessLayers("converse", "pipeline", "auth", "route", "observe", "config", "provider",
          "answer", "prompt")
      .whereLayer("ingress").mayOnlyAccessLayers("pipeline", "auth", "route", "observe", "config", "provider",
          "answer")
      .whereLayer("converse").mayOnlyAccessLayers("pipeline", "auth", "route", "observe", "config", "provider",
          "answer")
      .whereLayer("state").mayOnlyAccessLayers("converse", "auth", "config", "provider", "answer")
      .whereLayer("pipeline").mayOnlyAccessLayers("auth", "route", "observe", "config", "provider", "answer",
          "prompt")
      .whereLayer("prompt").mayOnlyAccessLayers("config", "answer")
      .whereLayer("auth").mayOnlyAccessLayers("config", "provider", "answer")
      .whereLayer("route").mayOnlyAccessLayers("config", "provider", "answer")
      .whereLayer("observe").mayOnlyAccessLayers("config", "answer")
      .whereLayer("tls").mayOnlyAccessLayers("config")
      .whereLayer("config").mayOnlyAccessLayers("provider", "answer")
      .whereLayer("provider").mayOnlyAccessLayers("answer")
      .whereLayer("answer").mayNotAccessAnyLayer();

  @ArchTest
  static final ArchRule INTERNAL_PACKAGES_SERVE_THEIR_OWN_PROVIDER = classes()
      .that().resideInAnyPackage("dev.llmrouter.server.provider.*.internal..",
          "dev.llmrouter.server.ingress.*.internal..")
      .should(beUsedOnlyByTheirOwnProvider());

  /** A class of `provider.<name>.internal` (`ingress.<name>.internal`) is used only from that package and below. */
  private static ArchCondition<JavaClass> beUsedOnlyByTheirOwnProvider() {
    return new ArchCondition<>("be used only by their own provider or dialect") {
      @Override
      public void check(JavaClass internal, ConditionEvents events) {
        String provider = internal.getPackageName().replaceFirst("\\.internal(\\..*)?$", "");
        for (Dependency dependency : internal.getDirectDependenciesToSelf()) {
          String user = dependency.getOriginClass().getPackageName();
          if (!user.equals(provider) && !user.startsWith(provider + ".")) {
            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
          }
        }
      }
    };
  }
}
