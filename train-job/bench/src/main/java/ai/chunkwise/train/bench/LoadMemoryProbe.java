package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.memory.PeakMemory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code bench load-memory}: the resident memory of loading a checkpoint, in this (fresh) JVM. The baseline is the
 * resident set once ND4J is up and before the first weight is read; the model keeps the bytes of its arrays; the
 * loader's target is a peak of at most 1.1 x (baseline + those bytes). Prints one JSON line.
 */
@Command(name = "load-memory", mixinStandardHelpOptions = true,
        description = "Peak resident memory while loading a checkpoint, against what the loaded model keeps.")
final class LoadMemoryProbe implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--frozen", defaultValue = "as-stored", description = "as-stored (LoRA's default) | widened")
    String frozen;

    @Option(names = "--dtype", defaultValue = "float32", description = "compute type: float32 | float64")
    String dtype;

    @Override
    public Integer call() {
        FrozenWeights mode = switch (frozen) {
            case "as-stored" -> FrozenWeights.AS_STORED;
            case "widened" -> FrozenWeights.WIDENED;
            default -> throw new IllegalArgumentException("--frozen must be as-stored or widened, got " + frozen);
        };
        DataType dt = "float64".equals(dtype) ? DataType.DOUBLE : DataType.FLOAT;
        Nd4j.create(DataType.FLOAT, 4).addi(1);   // ND4J's native libraries and first op belong to the baseline
        System.gc();
        long before = PeakMemory.residentSetBytes();
        long t0 = System.nanoTime();
        HfCheckpoint hf;
        long peak;
        try (PeakMemory memory = PeakMemory.start()) {
            hf = HfCheckpoint.load(model, dt, mode);
            peak = memory.peakResidentBytes();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long kept = 0;
        for (INDArray a : hf.weights().values()) {
            kept += a.length() * a.dataType().width();
        }
        long after = PeakMemory.residentSetBytes();
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model", model.toString());
        o.put("frozen", frozen);
        o.put("tensors", hf.weights().size());
        o.put("weight_dtype", hf.weights().values().iterator().next().dataType().toString());
        o.put("weights_gib", gib(kept));
        o.put("rss_before_gib", gib(before));
        o.put("peak_rss_gib", gib(peak));
        o.put("rss_after_gib", gib(after));
        o.put("peak_over_kept", round((double) peak / (before + kept)));
        o.put("load_seconds", round(seconds));
        System.out.println(o);
        return 0;
    }

    private static double gib(long bytes) {
        return round(bytes / (double) (1L << 30));
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
