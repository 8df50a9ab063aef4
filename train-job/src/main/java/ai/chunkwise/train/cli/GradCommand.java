package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.data.InputIdsFile;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.memory.PeakMemory;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import ai.chunkwise.train.memory.MemoryBudget;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code grad}: loss and gradients of one batch, written as safetensors with Hugging Face tensor names
 * ({@code loss} float64 [1], {@code grad.<name>} float64) so another framework can check them; one JSON summary
 * line on stdout.
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Loss and gradients of one batch (full back-propagation, SeCO or SpaCO), saved as safetensors.")
final class GradCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Precision {
        float32(DataType.FLOAT), float64(DataType.DOUBLE);

        final DataType dataType;

        Precision(DataType dataType) {
            this.dataType = dataType;
        }
    }

    // locations are Strings: a picocli Path would turn hdfs://host:8020/x into hdfs:/host:8020/x
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json + safetensors), local or any Hadoop file system path")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "PEFT LoRA adapter directory: train its A/B only (base frozen)")
    String adapter;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "safetensors file with int64 (or int32) input_ids [batch, seq]; other tensors are ignored")
    String input;

    @Option(names = "--method", required = true, description = "full | seco | spaco")
    String methodName;

    private Method method;
    private EngineSpec engineSpec;

    @Option(names = "--chunk-size", description = "tokens per chunk (seco, spaco)")
    Integer chunkSize;

    @Option(names = "--budget", description = "SpaCO: chunks back-propagated per sequence (expected count for bernoulli)")
    Double budget;

    @Option(names = "--sampling", defaultValue = "bernoulli", description = "SpaCO: uniform | bernoulli (default) | nonempty | importance")
    String sampling;

    @Option(names = "--seed", defaultValue = "0", description = "SpaCO: random seed (default 0)")
    long seed;

    @Option(names = "--samples", defaultValue = "1",
            description = "SpaCO: average this many estimates, seeds S..S+M-1, and report their relative spread")
    int samples;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 (default) | float64")
    Precision dtype;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "output .safetensors file (written atomically), local or any Hadoop file system path")
    String out;

    @Option(names = "--gc-threshold-mb", defaultValue = "0",
            description = "System.gc() after a backward chunk once resident memory grew by this many MB, to "
                    + "release SameDiff's native buffers (default 0: after every chunk)")
    long gcThresholdMb;

    @Option(names = "--memory-limit", defaultValue = MemoryBudget.AUTO, paramLabel = "auto|SIZE",
            description = "the memory this command may use, as train.memory.limit: auto (default: what the machine "
                    + "has free) or a size such as 12G")
    String memoryLimit;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        MemoryBudget.parse(memoryLimit).apply();   // before ND4J starts: JavaCPP reads its limits once
        validateOptions();
        PeakMemory memory = PeakMemory.start();
        try (memory) {
            long t0 = System.nanoTime();
            DataType dt = dtype.dataType;
            org.apache.hadoop.conf.Configuration hadoop = HadoopEnvironment.configuration();
            HfCheckpoint checkpoint = HfCheckpoint.load(Locations.fetch("--model", model, hadoop), dt,
                    FrozenWeights.forRun(adapter != null));
            PeftAdapter lora = adapter == null ? null : PeftAdapter.load(Locations.fetch("--adapter", adapter, hadoop), dt);
            long[][] tokens = InputIdsFile.read(Locations.fetch("--input", input, hadoop));
            LlamaModel llama = new LlamaModel(checkpoint.config(), checkpoint.weights(), lora, dt, tokens.length);
            llama.setNativeMemoryCollectionThreshold(gcThresholdMb << 20);
            Batch batch = Batch.of(tokens);
            long loaded = System.nanoTime();
            long t1;

            Map<String, INDArray> mean = new LinkedHashMap<>();
            Map<String, INDArray>[] estimates = samplesOf(method);
            BatchGradients first = null;
            double visited = 0;
            GradientEngine engine = engineSpec.create(llama);
            t1 = System.nanoTime();
            for (int i = 0; i < estimates.length; i++) {
                BatchGradients g = engine.compute(batch, seed + i);
                first = first == null ? g : first;
                visited += g.chunksVisited();
                Map<String, INDArray> asDouble = new LinkedHashMap<>();
                g.gradients().forEach((n, t) -> asDouble.put(n, t.castTo(DataType.DOUBLE)));
                if (estimates.length > 1) {
                    estimates[i] = asDouble;
                }
                asDouble.forEach((n, t) -> mean.merge(n, t.div(estimates.length), INDArray::addi));
            }
            long t2 = System.nanoTime();

            Map<String, INDArray> tensors = new LinkedHashMap<>();
            tensors.put("loss", Nd4j.createFromArray(first.loss()));
            mean.forEach((n, t) -> tensors.put("grad." + n, t));
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            metadata.put("method", method.configName());
            metadata.put("dtype", dtype.name());
            writeOut(tensors, metadata, hadoop);

            ObjectNode summary = JSON.createObjectNode();
            summary.put("method", method.configName());
            summary.put("dtype", dtype.name());
            summary.put("batch", tokens.length);
            summary.put("seq_len", tokens[0].length);
            if (method.chunked()) {
                summary.put("chunk_size", chunkSize);
            }
            summary.put("chunks", first.chunks());
            summary.put("chunks_visited_mean", visited / estimates.length);
            summary.put("loss", first.loss());
            summary.put("predicted_tokens", first.predictedTokens());
            putNorms(summary, mean);
            if (estimates.length > 1) {
                summary.put("samples", estimates.length);
                summary.put("relative_spread", relativeSpread(estimates, mean));
            }
            summary.put("seconds", (t2 - t1) / 1e9);
            summary.put("load_seconds", (loaded - t0) / 1e9);
            summary.put("peak_heap_bytes", memory.peakHeapBytes());
            summary.put("peak_physical_bytes", memory.peakResidentBytes());
            summary.put("peak_javacpp_tracked_bytes", memory.peakJavaCppTrackedBytes());
            String omp = System.getenv("OMP_NUM_THREADS");
            summary.put("omp_num_threads", omp == null ? "unset" : omp);
            summary.put("nd4j_build", ai.chunkwise.train.backend.CpuBuild.describe());
            summary.put("out", out);
            spec.commandLine().getOut().println(summary.toString());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    /** Written atomically where it is local; a remote --out is written locally first, then uploaded. */
    private void writeOut(Map<String, INDArray> tensors, Map<String, String> metadata,
                          org.apache.hadoop.conf.Configuration hadoop) {
        if (!Locations.isRemote(out)) {
            SafeTensors.write(Locations.localPath(out), tensors, metadata, DataType.DOUBLE);
            return;
        }
        try {
            Path local = java.nio.file.Files.createTempFile("chunkwise-grad-", ".safetensors");
            try {
                SafeTensors.write(local, tensors, metadata, DataType.DOUBLE);
                Locations.publish("--out", local, out, hadoop);
            } finally {
                java.nio.file.Files.deleteIfExists(local);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write --out " + out + ": " + e.getMessage(), e);
        }
    }

    private void validateOptions() {
        CommandLine cl = spec.commandLine();
        try {
            method = Method.parse(methodName);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        if (!method.sampled() && (budget != null || samples != 1)) {
            throw new CommandLine.ParameterException(cl, "--budget and --samples apply to --method spaco only");
        }
        if (samples < 1) {
            throw new CommandLine.ParameterException(cl, "--samples must be >= 1, got " + samples);
        }
        try {   // EngineSpec checks the chunk size, budget and sampling, as it does for train
            engineSpec = new EngineSpec(method, chunkSize == null ? 0 : chunkSize, budget == null ? 0 : budget,
                    SpacoSampling.parse(sampling));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage() + " (options --chunk-size, --budget, --sampling)");
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, INDArray>[] samplesOf(Method m) {
        return new Map[m.sampled() ? samples : 1];
    }

    private static void putNorms(ObjectNode summary, Map<String, INDArray> grads) {
        double total = 0;
        double max = -1;
        String maxName = null;
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            double n = e.getValue().norm2Number().doubleValue();
            total += n * n;
            if (n > max) {
                max = n;
                maxName = e.getKey();
            }
        }
        summary.put("grad_norm", Math.sqrt(total));
        summary.put("max_tensor_grad_norm", max);
        summary.put("max_tensor_grad_norm_name", maxName);
    }

    /** sqrt(mean_i ||g_i - mean||^2) / ||mean||, over all tensors together: the relative spread of one estimate. */
    private static double relativeSpread(Map<String, INDArray>[] estimates, Map<String, INDArray> mean) {
        double deviation = 0;
        for (Map<String, INDArray> g : estimates) {
            for (Map.Entry<String, INDArray> e : mean.entrySet()) {
                double d = g.get(e.getKey()).sub(e.getValue()).norm2Number().doubleValue();
                deviation += d * d;
            }
        }
        double norm = 0;
        for (INDArray t : mean.values()) {
            double n = t.norm2Number().doubleValue();
            norm += n * n;
        }
        return Math.sqrt(deviation / estimates.length) / Math.sqrt(norm);
    }
}
