package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.SourceSpec;
import ai.chunkwise.train.data.TrainingReferenceStream;
import ai.chunkwise.train.data.TrainingSources;
import ai.chunkwise.train.distributed.ExecutorJob;
import ai.chunkwise.train.distributed.SparkStepGradients;
import ai.chunkwise.train.distributed.SparkTraining;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.step.MethodSeeds;
import ai.chunkwise.train.step.StepGradients;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * train.distributed = spark: each step's micro-batches as Spark tasks on the executors, which read their rows
 * themselves; this class turns the run's settings into what the executors need.
 */
final class SparkSteps {
    private SparkSteps() {
    }

    /** The step gradients on Spark, reading the data on from {@code position}; announced on the console. */
    static StepGradients open(TrainSettings s, LlamaModel model, TrainingSources data, DataPosition position,
                              MethodSeeds seeds, PrintStream console) {
        TrainSettings.Data d = s.data();
        TrainingReferenceStream rows = new TrainingReferenceStream(data, d.seed(), d.shuffle(), d.shuffleBuffer(),
                position);
        org.apache.spark.api.java.JavaSparkContext spark = SparkTraining.context(s.distributed().master());
        console.printf(Locale.ROOT, "distributed: %d micro-batches a step as Spark tasks on %s (%d task slots now)%n",
                s.accumulationSteps(), spark.master(), spark.defaultParallelism());
        return new SparkStepGradients(spark, executorJob(s, model, data), rows, model.trainableParameters(), seeds);
    }

    /** What executors need to compute this run's micro-batches; local paths made absolute (executors run elsewhere). */
    private static ExecutorJob executorJob(TrainSettings s, LlamaModel model, TrainingSources data) {
        TrainSettings.Data d = s.data();
        TrainSettings.Model m = s.model();
        List<SourceSpec> sources = d.sources().stream()
                .map(src -> new SourceSpec(absolute(src.path()), src.weight())).toList();
        return new ExecutorJob(sources, d.maxSequences(), d.verifyChecksums(), d.documentBoundaries(),
                m.location() == null ? null : absolute(m.location()), model.config().toJson(), m.lora(),
                m.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE,
                s.method().engineSpec(data.header().chunkSize()), s.batchSize(), m.gcThresholdMb() << 20,
                data.sequenceLength(), s.distributed().executorMemoryLimit());
    }

    private static String absolute(String location) {
        return Locations.isRemote(location) ? location : Locations.localPath(location).toAbsolutePath().toString();
    }
}
