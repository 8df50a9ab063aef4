package ai.chunkwise.train.distributed;

import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/** The Spark task function: a micro-batch's gradients on a borrowed {@link ExecutorWorker}. */
final class ComputeMicroBatch implements Function<MicroBatchTask, MicroBatchResult> {
    private static final long serialVersionUID = 1L;
    private final ExecutorJob job;
    private final Broadcast<TensorSnapshot> weights;
    private final String version;

    ComputeMicroBatch(ExecutorJob job, Broadcast<TensorSnapshot> weights, String version) {
        this.job = job;
        this.weights = weights;
        this.version = version;
    }

    @Override
    public MicroBatchResult call(MicroBatchTask task) {
        TensorSnapshot w = weights.value();
        ExecutorWorker worker = ExecutorWorker.borrow(job, w);
        MicroBatchResult result = worker.compute(task, w, version);
        ExecutorWorker.release(job, worker);   // only after success: a failed worker's state is not trusted again
        return result;
    }
}
