package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A LoRA run on a bf16 checkpoint whose frozen base stays bfloat16 (FrozenWeights.AS_STORED, the default) computes
 * the same loss and gradients, bit for bit, as one whose base is widened to the compute type when loaded:
 * bf16 -> float32/float64 is exact, so where the model widens must not change a single bit.
 */
class FrozenBaseGradientTest {
    private static final LoraConfig LORA = new LoraConfig(4, 8, List.of("q_proj", "v_proj", "down_proj"));

    @TempDir
    Path dir;

    @Test
    void bfloat16BaseKeptAsStoredGivesTheWidenedGradientsBitForBit() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        Path model = dir.resolve("bf16");
        HfCheckpoint.save(model, config, RandomLlama.weights(config, 11), DataType.DOUBLE,
                new ModelExport("bfloat16", 1L << 30, null, null));
        Batch batch = Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 12));
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            HfCheckpoint kept = HfCheckpoint.load(model, dt, FrozenWeights.AS_STORED);
            HfCheckpoint widened = HfCheckpoint.load(model, dt, FrozenWeights.WIDENED);
            assertEquals(DataType.BFLOAT16, kept.weights().values().iterator().next().dataType());
            BatchGradients a = new SecoEngine(new LlamaModel(config, kept.weights(),
                    RandomLlama.adapter(config, LORA, 13), dt, 2), 7).compute(batch);
            BatchGradients b = new SecoEngine(new LlamaModel(config, widened.weights(),
                    RandomLlama.adapter(config, LORA, 13), dt, 2), 7).compute(batch);
            assertEquals(b.loss(), a.loss(), 0.0, dt + " loss");
            assertEquals(b.gradients().keySet(), a.gradients().keySet());
            for (Map.Entry<String, INDArray> e : b.gradients().entrySet()) {
                assertArrayEquals(e.getValue().dup().data().asDouble(),
                        a.gradients().get(e.getKey()).dup().data().asDouble(), 0.0, dt + ": " + e.getKey());
            }
        }
    }
}
