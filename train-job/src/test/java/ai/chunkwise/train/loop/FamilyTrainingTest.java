package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.ModelFamily;
import ai.chunkwise.train.model.RopeScaling;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training runs on the non-Llama families end to end (settings, trainer, optimizer, checkpoint writer): Qwen2's
 * biases are trained in full fine-tuning and written back under their names, a LoRA run on Qwen3 writes a PEFT
 * adapter, and a Mistral model trained with SpaCO keeps its window and a yarn scaling in the config.json it writes.
 */
class FamilyTrainingTest {
    private static Map<String, String> settings(Path tmp, Path model) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", quote(TinyDatasets.write(tmp.resolve("ds"), 6)));
        o.put("train.model.path", quote(model));
        o.put("train.output", quote(tmp.resolve("out")));
        o.put("train.steps", "2");
        o.put("train.optimizer.lr", "0.01");
        return o;
    }

    private static String quote(Path p) {
        return com.typesafe.config.ConfigUtil.quoteString(p.toString());
    }

    private static void train(Map<String, String> settings) {
        new Trainer(TrainSettings.load(null, settings), new PrintStream(new ByteArrayOutputStream())).run(false, Long.MAX_VALUE, false);
    }

    private static Path base(Path dir, LlamaConfig config) {
        HfCheckpoint.save(dir, config, RandomInit.weights(config, 5, 0.02, DataType.FLOAT));
        return dir;
    }

    @Test
    void qwen2FullFineTuningTrainsAndWritesTheBiases(@TempDir Path tmp) throws IOException {
        LlamaConfig qwen2 = new LlamaConfig(TinyDatasets.VOCAB, 16, 32, 2, 2, 1, 8, 1e-6, 1e6, null, true, 64, 1, 2,
                ModelFamily.QWEN2, 0);
        train(settings(tmp, base(tmp.resolve("base"), qwen2)));
        Path written = tmp.resolve("out/checkpoints/step-000002/model");
        HfCheckpoint back = HfCheckpoint.load(written, DataType.FLOAT);
        assertEquals(qwen2, back.config());
        JsonNode config = new ObjectMapper().readTree(written.resolve("config.json").toFile());
        assertEquals("Qwen2ForCausalLM", config.get("architectures").get(0).asText());
        INDArray bias = back.weights().get("model.layers.1.self_attn.q_proj.bias");
        assertTrue(bias.norm2Number().doubleValue() > 0, "the q bias starts at 0 and must have been trained");
    }

    @Test
    void qwen3LoraWritesAnAdapterAndLeavesTheBaseAlone(@TempDir Path tmp) {
        LlamaConfig qwen3 = new LlamaConfig(TinyDatasets.VOCAB, 16, 32, 2, 2, 1, 12, 1e-6, 1e6, null, false, 64, 1, 2,
                ModelFamily.QWEN3, 0);
        Map<String, String> o = settings(tmp, base(tmp.resolve("base"), qwen3));
        o.put("train.lora.enabled", "true");
        o.put("train.lora.targets", "[q_proj, k_proj, v_proj, o_proj]");
        train(o);
        PeftAdapter adapter = PeftAdapter.load(tmp.resolve("out/checkpoints/step-000002/adapter"), DataType.FLOAT);
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj"), adapter.config().targetModules());
        assertTrue(adapter.tensors().get(PeftAdapter.tensorName(1, "k_proj", 'B')).norm2Number().doubleValue() > 0);
        assertFalse(Files.exists(tmp.resolve("out/checkpoints/step-000002/model")), "LoRA saves the adapter only");
    }

    @Test
    void mistralKeepsItsWindowAndScalingInTheWrittenConfig(@TempDir Path tmp) {
        LlamaConfig mistral = new LlamaConfig(TinyDatasets.VOCAB, 16, 32, 2, 2, 1, 8, 1e-5, 1e4,
                RopeScaling.Yarn.of(2, 32), false, 64, 1, 2, ModelFamily.MISTRAL, 5);
        Map<String, String> o = settings(tmp, base(tmp.resolve("base"), mistral));
        o.put("train.method.name", "spaco");
        train(o);
        assertEquals(mistral, HfCheckpoint.load(tmp.resolve("out/checkpoints/step-000002/model"), DataType.FLOAT).config());
    }
}
