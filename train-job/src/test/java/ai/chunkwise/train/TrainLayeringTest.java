package ai.chunkwise.train;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package layering of train-job, top to bottom; an arrow points down only (docs/architecture.md):
 * <pre>
 * cli                                   the commands: build the settings, run a loop, print the outcome
 * loop, backend                         the training loop; the native backend's checks (the doctor command)
 * distributed                           a step's micro-batches on Spark executors (selects backend's build there)
 * step                                  the gradients of one optimizer step, accumulated in micro-batch order
 * data, report, reliability, evaluation what the loop feeds, records, guards and measures
 *                                       (evaluation reads batches through data; reliability fingerprints data)
 * engine                                gradients of one batch: SeCO, SpaCO, full back-propagation
 * checkpoint, memory, model             weights on disk (read into the model's config); the memory budget and
 *                                       estimate (sized from the model's config); the model itself
 * optim, storage                        leaves: the optimizer; the remote output directory
 * pipeline                              the module below both jobs (dataset format, tokenizers, locks)
 * </pre>
 * No exceptions are listed: a back-arrow fails the build. Classes only, tests excluded.
 */
@AnalyzeClasses(packages = {"ai.chunkwise.train", "ai.chunkwise.pipeline"},
        importOptions = ImportOption.DoNotIncludeTests.class)
class TrainLayeringTest {
    private static final String P = "ai.chunkwise.train.";

    @ArchTest
    static final ArchRule ARROWS_POINT_DOWN = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cli").definedBy(P + "cli..")
            .layer("loop").definedBy(P + "loop..")
            .layer("backend").definedBy(P + "backend..")
            .layer("distributed").definedBy(P + "distributed..")
            .layer("step").definedBy(P + "step..")
            .layer("data").definedBy(P + "data..")
            .layer("report").definedBy(P + "report..")
            .layer("reliability").definedBy(P + "reliability..")
            .layer("evaluation").definedBy(P + "evaluation..")
            .layer("engine").definedBy(P + "engine..")
            .layer("checkpoint").definedBy(P + "checkpoint..")
            .layer("memory").definedBy(P + "memory..")
            .layer("model").definedBy(P + "model..")
            .layer("optim").definedBy(P + "optim..")
            .layer("storage").definedBy(P + "storage..")
            .layer("pipeline").definedBy("ai.chunkwise.pipeline..")

            .whereLayer("cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("loop").mayOnlyAccessLayers("distributed", "step", "data", "report", "reliability", "evaluation", "engine",
                    "checkpoint", "memory", "model", "optim", "storage", "pipeline")
            .whereLayer("distributed").mayOnlyAccessLayers("step", "backend", "data", "engine", "checkpoint", "memory",
                    "model", "optim", "storage", "pipeline")
            .whereLayer("step").mayOnlyAccessLayers("data", "engine", "checkpoint", "memory", "model", "optim",
                    "storage", "pipeline")
            .whereLayer("backend").mayOnlyAccessLayers("engine", "checkpoint", "memory", "model", "optim", "storage",
                    "pipeline")
            .whereLayer("data").mayOnlyAccessLayers("engine", "checkpoint", "memory", "model", "optim", "storage",
                    "pipeline")
            .whereLayer("report").mayOnlyAccessLayers("engine", "checkpoint", "memory", "model", "optim", "storage",
                    "pipeline")
            .whereLayer("reliability").mayOnlyAccessLayers("data", "engine", "checkpoint", "memory", "model", "optim",
                    "storage", "pipeline")
            .whereLayer("evaluation").mayOnlyAccessLayers("data", "engine", "checkpoint", "memory", "model", "optim",
                    "storage", "pipeline")
            .whereLayer("engine").mayOnlyAccessLayers("checkpoint", "memory", "model", "optim", "storage", "pipeline")
            .whereLayer("checkpoint").mayOnlyAccessLayers("memory", "model", "optim", "storage", "pipeline")
            .whereLayer("memory").mayOnlyAccessLayers("model", "optim", "storage", "pipeline")
            .whereLayer("model").mayOnlyAccessLayers("optim", "storage", "pipeline")
            .whereLayer("optim").mayOnlyAccessLayers("pipeline")
            .whereLayer("storage").mayOnlyAccessLayers("pipeline")
            .whereLayer("pipeline").mayNotAccessAnyLayer();

    /** A new package has to take its place in the layering above before it can hold a class. */
    @ArchTest
    static final ArchRule EVERY_PACKAGE_HAS_A_LAYER = classes().that().resideInAPackage("ai.chunkwise.train..")
            .should().resideInAnyPackage(P + "cli..", P + "loop..", P + "backend..", P + "distributed..", P + "step..", P + "data..", P + "report..",
                    P + "reliability..", P + "evaluation..", P + "engine..", P + "checkpoint..", P + "memory..",
                    P + "model..", P + "optim..", P + "storage..");

    /** Stricter than the layers: no two packages (subpackages included, and pipeline's) reach each other. */
    @ArchTest
    static final ArchRule NO_PACKAGE_CYCLES = slices().matching("ai.chunkwise.(**)").should().beFreeOfCycles();
}
