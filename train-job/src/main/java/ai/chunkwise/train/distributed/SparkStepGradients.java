package ai.chunkwise.train.distributed;

import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.TrainingReferenceStream;
import ai.chunkwise.train.optim.GradientAccumulator;
import ai.chunkwise.train.step.MethodSeeds;
import ai.chunkwise.train.step.StepGradients;
import ai.chunkwise.train.step.StepSums;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A step's micro-batches as one Spark job: one task per micro-batch, planned on the driver by (step, index) from
 * the data order, the step's trainable weights broadcast. The results come back in partition order (collect keeps
 * it, whichever executor finished first) and are added in micro-batch order, exactly as {@code LocalStepGradients}
 * adds them. Spark's treeAggregate would sum on the executors instead, but in the order tasks finish, so a step
 * would not be reproducible bit for bit; a micro-batch's gradients are small with LoRA.
 */
public final class SparkStepGradients implements StepGradients {
    private final JavaSparkContext spark;
    private final ExecutorJob job;
    private final TrainingReferenceStream rows;
    private final Map<String, INDArray> trainable;
    private final MethodSeeds seeds;
    private final String runId = UUID.randomUUID().toString();

    /**
     * @param spark     the run's context, stopped when this closes
     * @param trainable the driver model's trainable tensors (the optimizer updates them between steps)
     */
    public SparkStepGradients(JavaSparkContext spark, ExecutorJob job,
                              TrainingReferenceStream rows, Map<String, INDArray> trainable, MethodSeeds seeds) {
        this.spark = spark;
        this.job = job;
        this.rows = rows;
        this.trainable = trainable;
        this.seeds = seeds;
        requireResultsFit(spark, trainable, seeds.accumulationSteps());
    }

    /**
     * The micro-batches' gradients all come back to the driver, and Spark aborts a job whose results pass
     * spark.driver.maxResultSize: refuse such a run before its first step rather than fail it there.
     */
    private static void requireResultsFit(JavaSparkContext spark, Map<String, INDArray> trainable, int tasks) {
        long perTask = 0;
        for (INDArray t : trainable.values()) {
            perTask += t.length() * t.dataType().width();
        }
        long limit = spark.getConf().getSizeAsBytes("spark.driver.maxResultSize", "1g");
        if (limit > 0 && perTask * tasks > limit) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "a step returns %d micro-batch "
                    + "gradients of %.1f MiB each to the driver, %.1f MiB in all, more than spark.driver.maxResultSize "
                    + "(%.1f MiB): raise spark.driver.maxResultSize, or use LoRA (train.lora.enabled) or fewer "
                    + "train.accumulation-steps", tasks, perTask / 1048576.0, perTask * (double) tasks / 1048576.0,
                    limit / 1048576.0));
        }
    }

    @Override
    public StepSums compute(long step, GradientAccumulator accumulator) {
        List<MicroBatchTask> tasks = new ArrayList<>();
        DataPosition next = null;
        for (int micro = 0; micro < seeds.accumulationSteps(); micro++) {
            TrainingReferenceStream.PlannedBatch planned = rows.nextBatch(job.batchSize());
            tasks.add(new MicroBatchTask(step, micro, planned.rows(), seeds.of(step, micro)));
            next = planned.next();
        }
        long t0 = System.nanoTime();
        Broadcast<TensorSnapshot> weights = spark.broadcast(TensorSnapshot.of(trainable));
        long t1 = System.nanoTime();
        List<MicroBatchResult> results;
        try {
            spark.setJobDescription("chunkwise step " + (step + 1) + ": " + tasks.size() + " micro-batches");
            results = spark.parallelize(tasks, tasks.size())
                    .map(new ComputeMicroBatch(job, weights, runId + "/" + step)).collect();
        } catch (Exception e) {   // SparkException, thrown by Scala without a declaration
            throw failed(step, e);
        } finally {
            weights.destroy();
        }
        long t2 = System.nanoTime();
        double lossSum = 0;
        double computeMillis = 0;
        long predicted = 0;
        int chunksVisited = 0;
        for (int i = 0; i < results.size(); i++) {
            MicroBatchResult r = results.get(i);
            if (r.index() != i) {
                throw new IllegalStateException("micro-batch results came back out of order: " + r.index() + " at " + i);
            }
            accumulator.add(r.gradients().toArrays(), r.predicted());
            lossSum += r.loss() * r.predicted();
            predicted += r.predicted();
            chunksVisited += r.chunksVisited();
            computeMillis += r.computeMillis();
        }
        long t3 = System.nanoTime();
        return new StepSums(lossSum, predicted, chunksVisited, next, Map.of("spark_broadcast_ms", (t1 - t0) / 1e6,
                "spark_job_ms", (t2 - t1) / 1e6, "spark_task_compute_ms", computeMillis, "spark_reduce_ms", (t3 - t2) / 1e6));
    }

    /** A failed job (after Spark's retries) as one error that carries the executor's own message. */
    private static RuntimeException failed(long step, Exception e) {
        if (!(e instanceof SparkException) && e instanceof RuntimeException re) {
            return re;
        }
        String message = e.getMessage();
        // Spark's message: "Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 times, most recent
        // failure: Lost task 0.3 in stage 3.0 (TID 12) (host executor 1): java.lang.IllegalArgumentException: ..."
        int cause = message == null ? -1 : message.indexOf("): ");
        String why = cause < 0 ? String.valueOf(message) : message.substring(cause + 3).lines().findFirst().orElse("");
        return new IllegalStateException("step " + (step + 1) + " failed on the executors after Spark's retries "
                + "(spark.task.maxFailures): " + why, e);
    }

    @Override
    public void close() {
        spark.stop();
    }
}
