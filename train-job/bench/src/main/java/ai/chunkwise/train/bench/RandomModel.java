package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaTensorLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench random-model}: a Hugging Face model directory with random weights in the shape of a real config.json
 * (conf/models/), for benchmarks at the widths users train without downloading checkpoints. {@code --layers} keeps
 * the real width with fewer layers (1, 2, 4: a per-layer cost to extrapolate from). Weights ~ N(0, std^2), norms 1,
 * as transformers initialises a Llama; written tensor by tensor (only the largest one in memory, as float32), so an
 * 8B-wide checkpoint can be made on a small machine.
 */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write config.json + model.safetensors with random weights in the shape of a config.json.")
final class RandomModel implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "config.json to take the shape from, e.g. "
            + "conf/models/llama-3.2-1b.json")
    Path config;

    @Option(names = "--layers", description = "num_hidden_layers of the written model (default: the config's)")
    Integer layers;

    @Option(names = "--dtype", defaultValue = "bfloat16", description = "bfloat16 | float16 | float32 "
            + "(default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--std", defaultValue = "0.02", description = "standard deviation of the weights "
            + "(default: ${DEFAULT-VALUE}, transformers' initializer_range)")
    double std;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--out", required = true, description = "model directory to write (must not exist)")
    Path out;

    @Override
    public Integer call() throws IOException {
        DataType storeAs = switch (dtype) {
            case "bfloat16" -> DataType.BFLOAT16;
            case "float16" -> DataType.HALF;
            case "float32" -> DataType.FLOAT;
            default -> throw new IllegalArgumentException("--dtype must be bfloat16, float16 or float32, got " + dtype);
        };
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + " exists: give a new directory");
        }
        LlamaConfig c = withLayers(LlamaConfig.fromJson(config), layers);
        LinkedHashMap<String, long[]> shapes = LlamaTensorLayout.expectedShapes(c);
        Files.createDirectories(out);
        Nd4j.getRandom().setSeed(seed);
        long t0 = System.nanoTime();
        SafeTensors.write(out.resolve(HfCheckpoint.WEIGHTS_FILE), shapes, Map.of("format", "pt"), storeAs,
                name -> randomTensor(name, shapes.get(name)));
        HfCheckpoint.writeConfig(c, out.resolve(HfCheckpoint.CONFIG_FILE), dtype);
        System.out.printf("%s: %d layers, hidden %d, %d tensors, %.2f GiB of %s weights, written in %.1f s%n", out,
                c.numHiddenLayers(), c.hiddenSize(), shapes.size(),
                Files.size(out.resolve(HfCheckpoint.WEIGHTS_FILE)) / (double) (1L << 30), dtype,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** Norm weights 1, everything else N(0, std^2), made as float32 (the writer rounds to the stored type). */
    private INDArray randomTensor(String name, long[] shape) {
        if (name.endsWith("norm.weight")) {
            return Nd4j.ones(DataType.FLOAT, shape);
        }
        return Nd4j.randn(DataType.FLOAT, shape).muli(std);
    }

    static LlamaConfig withLayers(LlamaConfig c, Integer layers) {
        if (layers == null) {
            return c;
        }
        if (layers < 1) {
            throw new IllegalArgumentException("--layers must be >= 1, got " + layers);
        }
        return new LlamaConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), layers, c.numAttentionHeads(),
                c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
                c.tieWordEmbeddings(), c.maxPositionEmbeddings(), c.bosTokenId(), c.eosTokenId());
    }
}
