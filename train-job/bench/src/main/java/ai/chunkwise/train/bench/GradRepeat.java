package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
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
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code bench grad}: the product's {@code grad} computation (a real checkpoint, a real batch) run
 * {@code --repeat} times in one JVM, printing every duration and the peak memory as one JSON line. For timing
 * a gradient method on a given model; {@code train-job grad} is the command that writes gradients.
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Time the loss and gradients of one batch, repeated in one JVM; prints one JSON line.")
final class GradRepeat implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--adapter", description = "PEFT LoRA adapter directory (base frozen)")
    Path adapter;

    @Option(names = "--input", required = true, description = "safetensors file with input_ids [batch, seq]")
    Path input;

    @Option(names = "--method", required = true, description = "full | seco | spaco")
    String method;

    @Option(names = "--chunk-size", defaultValue = "0", description = "tokens per chunk (seco, spaco)")
    int chunkSize;

    @Option(names = "--budget", defaultValue = "0", description = "SpaCO budget t")
    double budget;

    @Option(names = "--sampling", defaultValue = "bernoulli", description = "SpaCO: uniform | bernoulli")
    String sampling;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 | float64")
    String dtype;

    @Option(names = "--gc-threshold-mb", defaultValue = "0",
            description = "as train.model.gc-threshold-mb (0: a GC after every backward chunk)")
    long gcThresholdMb;

    @Option(names = "--repeat", defaultValue = "3", description = "timed runs (default: ${DEFAULT-VALUE})")
    int repeat;

    @Override
    public Integer call() {
        DataType dt = switch (dtype) {
            case "float32" -> DataType.FLOAT;
            case "float64" -> DataType.DOUBLE;
            default -> throw new IllegalArgumentException("--dtype must be float32 or float64, got " + dtype);
        };
        Method m = Method.parse(method);
        EngineSpec spec = new EngineSpec(m, chunkSize, budget, m.sampled() ? SpacoSampling.parse(sampling) : null);
        ObjectMapper json = new ObjectMapper();
        try (PeakMemory memory = PeakMemory.start()) {
            HfCheckpoint checkpoint = HfCheckpoint.load(model, dt, FrozenWeights.forRun(adapter != null));
            PeftAdapter lora = adapter == null ? null : PeftAdapter.load(adapter, dt);
            long[][] tokens = InputIdsFile.read(input);
            LlamaModel llama = new LlamaModel(checkpoint.config(), checkpoint.weights(), lora, dt, tokens.length);
            llama.setNativeMemoryCollectionThreshold(gcThresholdMb << 20);
            GradientEngine engine = spec.create(llama);
            Batch batch = Batch.of(tokens);
            ArrayNode seconds = json.createArrayNode();
            BatchGradients last = null;
            for (int r = 0; r < repeat; r++) {
                long t0 = System.nanoTime();
                last = engine.compute(batch, r);
                seconds.add((System.nanoTime() - t0) / 1e9);
            }
            memory.close();
            ObjectNode out = json.createObjectNode();
            out.put("method", m.configName());
            out.put("dtype", dtype);
            out.put("batch", tokens.length);
            out.put("seq_len", tokens[0].length);
            out.put("chunk_size", chunkSize);
            out.put("loss", last == null ? Double.NaN : last.loss());
            out.set("seconds_per_run", seconds);
            out.put("peak_physical_bytes", memory.peakResidentBytes());
            String omp = System.getenv("OMP_NUM_THREADS");
            out.put("omp_num_threads", omp == null ? "unset" : omp);
            System.out.println(out);
        }
        return 0;
    }
}
