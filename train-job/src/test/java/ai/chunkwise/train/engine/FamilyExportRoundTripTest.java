package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.ModelFamily;
import ai.chunkwise.train.model.RandomLlama;
import ai.chunkwise.train.model.RopeScaling;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Chunkwise exports for each family loads back in transformers / PEFT with the same loss. Each case is a tiny
 * random model of a family (Qwen2 biases, Qwen3 q/k norms, Mistral's window, yarn, dynamic NTK; LoRA over Qwen2 and
 * Qwen3), exported the way a training run writes it (config.json with the family's keys, weights as bf16 or
 * float32 in 100 kB shards with an index, or a PEFT adapter over a written base) into target/family-exports/NAME;
 * Java reads the export back (config equal) and computes its float64 loss on fixed ids. transformers 5.17 and PEFT
 * 0.21 loaded byte-identical files on the device machine (train-job/tools/check_family_exports.py) and their
 * float64 losses are in fixtures/hf-families/export-check.json, with the SHA-256 of every file they loaded: the
 * test checks the files are still exactly those and that the losses agree to 1e-9.
 */
class FamilyExportRoundTripTest {
    static final Path OUT = Path.of("target/family-exports");
    private static final Path HF_CHECK = HfFamiliesReferenceTest.ROOT.resolve("export-check.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static LlamaConfig config(String name) {
        return switch (name) {
            case "qwen2", "qwen2-lora" -> new LlamaConfig(97, 32, 64, 2, 4, 2, 8, 1e-6, 1e6, null, true, 4096, 1, 2,
                    ModelFamily.QWEN2, 0);
            case "qwen3", "qwen3-lora" -> new LlamaConfig(97, 32, 64, 2, 4, 2, 12, 1e-6, 1e6, null, false, 4096, 1, 2,
                    ModelFamily.QWEN3, 0);
            case "mistral-window" -> new LlamaConfig(97, 32, 64, 2, 4, 2, 8, 1e-5, 1e4, null, false, 4096, 1, 2,
                    ModelFamily.MISTRAL, 12);
            case "qwen2-yarn" -> new LlamaConfig(97, 32, 64, 2, 4, 2, 8, 1e-6, 1e6, RopeScaling.Yarn.of(4, 16), true,
                    16, 1, 2, ModelFamily.QWEN2, 0);
            case "llama-dynamic" -> new LlamaConfig(97, 32, 64, 2, 4, 2, 8, 1e-5, 1e4, new RopeScaling.Dynamic(2),
                    false, 32, 1, 2);
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"mistral-window, model, float32", "qwen2, model, bfloat16", "qwen2-yarn, model, float32",
            "qwen3, model, bfloat16", "llama-dynamic, model, float32", "qwen2-lora, adapter, float32",
            "qwen3-lora, adapter, float32"})
    void exportLoadsBackInTransformersWithTheSameLoss(String name, String kind, String dtype) throws IOException {
        LlamaConfig config = config(name);
        boolean adapter = kind.equals("adapter");
        Map<String, INDArray> weights = RandomLlama.weights(config, 21);
        long[][] ids = RandomLlama.tokens(2, 48, config.vocabSize(), 22);
        Path dir = OUT.resolve(name);
        Path exported = dir.resolve(kind);
        deleteTree(dir);
        Files.createDirectories(dir);
        double javaLoss;
        if (adapter) {
            LoraConfig lora = new LoraConfig(4, 8, List.of("q_proj", "k_proj", "v_proj", "o_proj", "down_proj"));
            HfCheckpoint.save(dir.resolve("base"), config, weights);
            PeftAdapter.save(exported, lora, RandomLlama.adapter(config, lora, 23).tensors(), "base");
            HfCheckpoint base = HfCheckpoint.load(dir.resolve("base"), DataType.DOUBLE);
            PeftAdapter reread = PeftAdapter.load(exported, DataType.DOUBLE);
            javaLoss = loss(new LlamaModel(base.config(), base.weights(), reread, DataType.DOUBLE, 2), ids);
        } else {
            // 100 kB shards: the tiny models come out in several shards with an index, as large ones do
            HfCheckpoint.save(exported, config, weights, DataType.DOUBLE, new ModelExport(dtype, 100_000, null, null));
            HfCheckpoint reread = HfCheckpoint.load(exported, DataType.DOUBLE);
            assertEquals(config, reread.config(), name + ": config.json read back");
            javaLoss = loss(new LlamaModel(reread.config(), reread.weights(), null, DataType.DOUBLE, 2), ids);
        }
        ObjectNode java = JSON.createObjectNode();
        java.put("kind", kind);
        java.put("loss", javaLoss);
        java.set("input_ids", JSON.valueToTree(ids));
        Files.writeString(dir.resolve("java.json"), java.toPrettyString());

        JsonNode hf = JSON.readTree(HF_CHECK.toFile()).path(name);
        assertTrue(hf.isObject(), HF_CHECK + " has no entry for " + name + ": run check_family_exports.py");
        assertEquals(JSON.convertValue(hf.path("files"), TreeMap.class), sha256s(exported),
                name + ": the exported files are not the ones transformers loaded");
        double hfLoss = hf.path("hf_loss").asDouble();
        double rel = Math.abs(javaLoss - hfLoss) / hfLoss;
        System.err.printf("%s (%s, %s): Java %.15f, transformers %.15f, relative %.1e%n", name, kind, dtype, javaLoss, hfLoss, rel);
        assertTrue(rel <= 1e-9, name + ": Java loss " + javaLoss + " vs transformers " + hfLoss);
    }

    private static double loss(LlamaModel model, long[][] ids) {
        return new FullBackprop(model).compute(Batch.of(ids), 0).loss();
    }

    static TreeMap<String, String> sha256s(Path dir) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                out.put(f.getFileName().toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(f))));
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
