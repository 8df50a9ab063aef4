package ai.chunkwise.tokenize;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package layering of tokenize-job, top to bottom; an arrow points down only (docs/architecture.md):
 * <pre>
 * tokenize         the job: command line (TokenizeJob), plan, Spark run (TokenizeRunner), result
 * config, shard    the settings; the per-shard work on the executors (tokenize, pack, write)
 * output           the output directory: layout, versions, locks
 * input            the input files and their records
 * pipeline         the module below both jobs (dataset format, tokenizers, locks, locations)
 * </pre>
 * No exceptions are listed: a back-arrow fails the build. Classes only, tests excluded.
 */
@AnalyzeClasses(packages = {"ai.chunkwise.tokenize", "ai.chunkwise.pipeline"},
        importOptions = ImportOption.DoNotIncludeTests.class)
class TokenizeLayeringTest {
    private static final String P = "ai.chunkwise.tokenize";

    @ArchTest
    static final ArchRule ARROWS_POINT_DOWN = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("tokenize").definedBy(P)
            .layer("config").definedBy(P + ".config..")
            .layer("shard").definedBy(P + ".shard..")
            .layer("output").definedBy(P + ".output..")
            .layer("input").definedBy(P + ".input..")
            .layer("pipeline").definedBy("ai.chunkwise.pipeline..")

            .whereLayer("tokenize").mayNotBeAccessedByAnyLayer()
            .whereLayer("config").mayOnlyAccessLayers("output", "input", "pipeline")
            .whereLayer("shard").mayOnlyAccessLayers("output", "input", "pipeline")
            .whereLayer("output").mayOnlyAccessLayers("input", "pipeline")
            .whereLayer("input").mayOnlyAccessLayers("pipeline")
            .whereLayer("pipeline").mayNotAccessAnyLayer();

    /** A new package has to take its place in the layering above before it can hold a class. */
    @ArchTest
    static final ArchRule EVERY_PACKAGE_HAS_A_LAYER = classes().that().resideInAPackage(P + "..")
            .should().resideInAnyPackage(P, P + ".config..", P + ".shard..", P + ".output..", P + ".input..");

    /** Stricter than the layers: no two packages (subpackages included, and pipeline's) reach each other. */
    @ArchTest
    static final ArchRule NO_PACKAGE_CYCLES = slices().matching("ai.chunkwise.(**)").should().beFreeOfCycles();
}
