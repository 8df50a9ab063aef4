package ai.chunkwise.train.distributed;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.BatchAssembler;
import ai.chunkwise.train.data.TrainingSources;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.memory.MemoryBudget;
import ai.chunkwise.train.memory.MemoryEstimate;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * An executor's model, engine and open datasets for one run, kept across steps and tasks. A task borrows an idle
 * worker (or loads a new one: one per task running at once in this JVM) and returns it; a worker brings its
 * trainable weights up to date from the step's broadcast before computing.
 */
final class ExecutorWorker {
    private static final Map<ExecutorJob, ConcurrentLinkedDeque<ExecutorWorker>> IDLE = new ConcurrentHashMap<>();

    private final LlamaModel model;
    private final GradientEngine engine;
    private final TrainingSources data;
    private final BatchAssembler assembler;
    private String weightsVersion;

    private ExecutorWorker(LlamaModel model, GradientEngine engine, TrainingSources data, BatchAssembler assembler) {
        this.model = model;
        this.engine = engine;
        this.data = data;
        this.assembler = assembler;
    }

    static ExecutorWorker borrow(ExecutorJob job, TensorSnapshot weights) {
        ExecutorWorker idle = IDLE.computeIfAbsent(job, j -> new ConcurrentLinkedDeque<>()).pollFirst();
        return idle != null ? idle : load(job, weights);
    }

    static void release(ExecutorJob job, ExecutorWorker worker) {
        IDLE.computeIfAbsent(job, j -> new ConcurrentLinkedDeque<>()).addFirst(worker);
    }

    /** The gradients of one micro-batch with the trainable weights of {@code version}. */
    MicroBatchResult compute(MicroBatchTask task, TensorSnapshot weights, String version) {
        long t0 = System.nanoTime();
        if (!version.equals(weightsVersion)) {
            weights.copyInto(model.trainableParameters());
            weightsVersion = version;
        }
        BatchGradients g = engine.compute(assembler.assemble(data.readRows(task.rows())), task.seed());
        return new MicroBatchResult(task.index(), g.loss(), g.predictedTokens(), g.chunksVisited(),
                TensorSnapshot.of(g.gradients()), (System.nanoTime() - t0) / 1e6);
    }

    private static ExecutorWorker load(ExecutorJob job, TensorSnapshot weights) {
        MemoryBudget budget = ExecutorEnvironment.prepare(job.memoryLimit());
        DataType dtype = job.float64() ? DataType.DOUBLE : DataType.FLOAT;
        LlamaConfig config = LlamaConfig.fromJsonText(job.configJson(), "the driver's config.json");
        Path base = job.lora() == null ? null : ExecutorEnvironment.local("train.model.path", job.modelLocation());
        int bytes = job.float64() ? 8 : 4;
        int frozenBytes = base == null ? bytes : HfCheckpoint.bytesPerWeight(base, dtype, FrozenWeights.AS_STORED);
        try {
            MemoryEstimate.require("executor on " + host(), () -> MemoryEstimate.of(config, job.lora(), bytes,
                    frozenBytes, job.engine().kvCache().bytesPerValue(bytes), job.batchSize(), job.sequenceLength(),
                    job.engine().chunkSize(), job.engine().method() == Method.FULL), budget.bytes());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ". On executors the budget is "
                    + "train.spark.executor-memory-limit (" + budget.origin() + "); give executors more memory "
                    + "(spark.executor.memoryOverhead, or a larger node) or set that key", e);
        }
        LlamaModel model;
        if (job.lora() == null) {
            // full fine-tuning: every weight is trainable and comes with the step's broadcast
            model = new LlamaModel(config, weights.toArrays(), null, dtype, job.batchSize());
        } else {
            HfCheckpoint hf = HfCheckpoint.load(base, dtype, FrozenWeights.AS_STORED);
            PeftAdapter adapter = PeftAdapter.init(hf.config(), job.lora(), 0L, dtype);   // values: the broadcast's
            model = new LlamaModel(hf.config(), hf.weights(), adapter, dtype, job.batchSize());
        }
        model.setNativeMemoryCollectionThreshold(job.gcThresholdBytes());
        TrainingSources data = TrainingSources.open(job.sources(), ExecutorEnvironment.hadoopConfiguration(),
                job.maxSequences(), job.verifyChecksums());
        return new ExecutorWorker(model, job.engine().create(model), data, new BatchAssembler(job.documentBoundaries()));
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "an unnamed host";
        }
    }
}
