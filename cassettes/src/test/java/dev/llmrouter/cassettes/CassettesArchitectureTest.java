package dev.llmrouter.cassettes;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The cassette engine is a plain Java library: any host (the server, a test suite, a command line) can use it. */
@AnalyzeClasses(packages = "dev.llmrouter.cassettes", importOptions = ImportOption.DoNotIncludeTests.class)
class CassettesArchitectureTest {

  @ArchTest
  static final ArchRule IMPORTS_NO_VERTX_AND_NO_GRPC = noClasses().that().resideInAPackage("dev.llmrouter.cassettes..")
      .should().dependOnClassesThat().resideInAnyPackage("io.vertx..", "io.grpc..")
      .because("the cassette engine is a plain library, below the server that speaks gRPC on Vert.x");
}
