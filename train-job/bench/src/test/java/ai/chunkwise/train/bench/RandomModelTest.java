package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench random-model}: a loadable bf16 checkpoint of a config's width with the depth asked for. */
class RandomModelTest {

    @Test
    void writesTheConfigsWidthWithFewerLayersInBfloat16(@TempDir Path tmp) {
        Path out = tmp.resolve("m");
        assertEquals(0, new CommandLine(new BenchCommand()).execute("random-model", "--config",
                "../../conf/models/tiny-bytes-llama.json", "--layers", "1", "--std", "0.05", "--out", out.toString()));
        LlamaConfig source = LlamaConfig.fromJson(Path.of("../../conf/models/tiny-bytes-llama.json"));
        HfCheckpoint hf = HfCheckpoint.load(out, DataType.FLOAT, FrozenWeights.AS_STORED);
        assertEquals(1, hf.config().numHiddenLayers());
        assertEquals(source.hiddenSize(), hf.config().hiddenSize());
        assertEquals(source.vocabSize(), hf.config().vocabSize());
        assertEquals(DataType.BFLOAT16, HfCheckpoint.storedFloatType(out));
        for (Map.Entry<String, INDArray> e : hf.weights().entrySet()) {
            INDArray w = e.getValue().castTo(DataType.DOUBLE);
            assertEquals(DataType.BFLOAT16, e.getValue().dataType(), e.getKey());
            if (e.getKey().endsWith("norm.weight")) {
                assertEquals(w.length(), w.eq(1.0).castTo(DataType.INT).sumNumber().longValue(), e.getKey());
            } else if (w.length() > 10_000) {
                // N(0, 0.05^2): the sample's standard deviation within 3% at > 10^4 values
                double std = w.stdNumber().doubleValue();
                assertTrue(Math.abs(std / 0.05 - 1) < 0.03, e.getKey() + ": std " + std);
                assertTrue(Math.abs(w.meanNumber().doubleValue()) < 0.05 * 0.03, e.getKey());
            }
        }
    }
}
