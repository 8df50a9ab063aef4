package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.model.LlamaModel;
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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Chunkwise exports for each family loads back in transformers / PEFT with the same loss. Each case takes a
 * family fixture, changes its weights (so nothing exported equals a file transformers wrote), exports them the way
 * a training run does (config.json with the family's keys, weights as bf16 shards or float32, or a PEFT adapter
 * over the fixture as base) into target/family-exports/NAME, reads the export back in Java and computes its
 * float64 loss. transformers and PEFT loaded byte-identical files on the device machine
 * (train-job/tools/check_family_exports.py) and their float64 losses are in fixtures/hf-families/export-check.json,
 * with the SHA-256 of every file they loaded: the test checks the files are still exactly those and the losses agree.
 */
class FamilyExportRoundTripTest {
    static final Path OUT = Path.of("target/family-exports");
    private static final Path HF_CHECK = HfFamiliesReferenceTest.ROOT.resolve("export-check.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0}")
    @CsvSource({"tiny-mistral-window, model, float32", "tiny-qwen2, model, bfloat16", "tiny-qwen2-yarn, model, float32",
            "tiny-qwen3, model, bfloat16", "tiny-llama-dynamic, model, float32", "tiny-qwen2-lora, adapter, float32",
            "tiny-qwen3-lora, adapter, float32"})
    void exportLoadsBackInTransformersWithTheSameLoss(String name, String kind, String dtype) throws IOException {
        Path fixture = HfFamiliesReferenceTest.ROOT.resolve(name);
        boolean adapter = kind.equals("adapter");
        HfReference ref = HfReference.load(fixture, adapter, fixture.resolve("reference-float64.safetensors"));
        Path dir = OUT.resolve(name);
        Path exported = dir.resolve(kind);
        deleteTree(dir);
        Files.createDirectories(dir);
        double javaLoss;
        if (adapter) {
            copyTree(fixture, dir.resolve("base"));   // the base the adapter belongs to, as transformers wrote it
            PeftAdapter.save(exported, ref.adapter().config(), changed(ref.adapter().tensors()), "base");
            PeftAdapter reread = PeftAdapter.load(exported, DataType.DOUBLE);
            javaLoss = loss(new LlamaModel(ref.config(), ref.weights(), reread, DataType.DOUBLE, ref.rows()), ref);
        } else {
            // 100 kB shards: the tiny models come out in several shards with an index, as large ones do
            HfCheckpoint.save(exported, ref.config(), changed(ref.weights()), DataType.DOUBLE,
                    new ModelExport(dtype, 100_000, null, null));
            HfCheckpoint reread = HfCheckpoint.load(exported, DataType.DOUBLE);
            assertEquals(ref.config(), reread.config(), name + ": config.json read back");
            javaLoss = loss(new LlamaModel(reread.config(), reread.weights(), null, DataType.DOUBLE, ref.rows()), ref);
        }
        ObjectNode java = JSON.createObjectNode();
        java.put("kind", kind);
        java.put("loss", javaLoss);
        java.set("input_ids", JSON.valueToTree(ref.inputIds()));
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

    private static double loss(LlamaModel model, HfReference ref) {
        return new FullBackprop(model).compute(Batch.of(ref.inputIds()), 0).loss();
    }

    /** w * 1.01 + 0.003: every tensor changes, biases and norms included. */
    private static Map<String, INDArray> changed(Map<String, INDArray> tensors) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        tensors.forEach((n, t) -> out.put(n, t.mul(1.01).addi(0.003)));
        return out;
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

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
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
