package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.tokenizer.HuggingFaceTokenizerJson;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.checkpoint.TrainedModelFiles;
import ai.chunkwise.train.cli.CommandRun;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a training run writes for transformers (bf16 model in, bf16 model out with the tokenizer files; exact
 * resume through the master weights) and the dataset/model tokenizer check.
 */
class ModelFilesTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A WordLevel tokenizer.json with the tiny model's 32 ids: <pad>=0, <s>=1, </s>=2, w3..w31. */
    private static Path tokenizerFiles(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringJoiner vocab = new StringJoiner(", ");
        vocab.add("\"<pad>\": 0").add("\"<s>\": 1").add("\"</s>\": 2");
        for (int i = 3; i < TinyDatasets.VOCAB; i++) {
            vocab.add("\"w" + i + "\": " + i);
        }
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"added_tokens\": [],"
                + " \"pre_tokenizer\": {\"type\": \"Whitespace\"},"
                + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {" + vocab + "}, \"unk_token\": \"<pad>\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"pad_token\": \"<pad>\"}");
        return dir;
    }

    /** A bf16 source model directory with its tokenizer files. */
    private static Path bf16Model(Path dir) throws IOException {
        LlamaConfig config = TinyDatasets.tinyModel();
        HfCheckpoint.save(dir, config, RandomInit.weights(config, 5, 0.3, DataType.FLOAT), DataType.FLOAT,
                new ModelExport("bfloat16", ModelExport.DEFAULT_MAX_SHARD_BYTES, null, null));
        return tokenizerFiles(dir);
    }

    private static String quote(Path p) {
        return ConfigUtil.quoteString(p.toString());
    }

    private static Map<String, String> settings(Path dataset, Path model, Path out) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", quote(dataset));
        o.put("train.model.path", quote(model));
        o.put("train.output", quote(out));
        o.put("train.steps", "2");
        o.put("train.checkpoint-every", "1");
        o.put("train.optimizer.lr", "0.01");
        o.put("train.optimizer.warmup-steps", "0");
        return o;
    }

    private static String train(Map<String, String> o, boolean resume, long stopAt) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        new Trainer(TrainSettings.load(null, o), new PrintStream(console, true, StandardCharsets.UTF_8)).run(resume, stopAt, false);
        return console.toString(StandardCharsets.UTF_8);
    }

    /** The dataset written with the model's own tokenizer identity (name, SHA-256 and special ids). */
    private static Path matchingDataset(Path dir, Path model) {
        TokenizerInfo info = HuggingFaceTokenizerJson.describe(model.resolve("tokenizer.json"));
        return TinyDatasets.write(dir, TinyDatasets.rows(6), info);
    }

    @Test
    void aBf16ModelComesBackBf16WithItsTokenizerAndResumesExactly(@TempDir Path tmp) throws IOException {
        Path model = bf16Model(tmp.resolve("base"));
        Path dataset = matchingDataset(tmp.resolve("ds"), model);
        train(settings(dataset, model, tmp.resolve("whole")), false, Long.MAX_VALUE);

        Path ckpt = tmp.resolve("whole/checkpoints/step-000002");
        Path out = ckpt.resolve("model");
        assertEquals("bfloat16", JSON.readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText());
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(model.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        assertEquals(2, JSON.readTree(out.resolve("generation_config.json").toFile()).get("eos_token_id").asInt());

        // every bf16 value is the round-to-nearest-even of the float32 master weight, computed here from the bits
        Map<String, INDArray> master = ai.chunkwise.train.checkpoint.SafeTensors.read(
                ckpt.resolve(TrainedModelFiles.MASTER_WEIGHTS_FILE), DataType.FLOAT);
        byte[] file = Files.readAllBytes(out.resolve(HfCheckpoint.WEIGHTS_FILE));
        long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        var header = JSON.readTree(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
        int checked = 0;
        for (Map.Entry<String, INDArray> e : master.entrySet()) {
            assertEquals("BF16", header.get(e.getKey()).get("dtype").asText());
            float[] f = e.getValue().dup('c').data().asFloat();
            ByteBuffer data = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
            int begin = (int) (8 + headerLength + header.get(e.getKey()).get("data_offsets").get(0).asLong());
            for (int i = 0; i < f.length; i++) {
                int bits = Float.floatToIntBits(f[i]);
                short expected = (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
                assertEquals(expected, data.getShort(begin + 2 * i), e.getKey() + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked > 1000, "checked " + checked + " values");

        // a run split at step 1 ends with the same master weights and bf16 model as the uninterrupted one
        Map<String, String> split = settings(dataset, model, tmp.resolve("split"));
        train(split, false, 1);
        train(split, true, Long.MAX_VALUE);
        for (String f : List.of(TrainedModelFiles.MASTER_WEIGHTS_FILE, "model/model.safetensors", "optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(ckpt.resolve(f)),
                    Files.readAllBytes(tmp.resolve("split/checkpoints/step-000002").resolve(f)), f);
        }
    }

    @Test
    void aDatasetOfAnotherTokenizerIsRefusedNamingBothUnlessOverridden(@TempDir Path tmp) throws IOException {
        Path model = bf16Model(tmp.resolve("base"));
        Path dataset = TinyDatasets.write(tmp.resolve("ds"), 4);   // tokenizer "test-32", another SHA-256
        Map<String, String> o = settings(dataset, model, tmp.resolve("out"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(o, false, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("test-32") && e.getMessage().contains(model.resolve("tokenizer.json").toString())
                && e.getMessage().contains("another vocabulary") && e.getMessage().contains("train.data.check-tokenizer"),
                e.getMessage());

        // same vocabulary, another EOS (the dataset was tokenized with --eos-token <s>)
        TokenizerInfo own = HuggingFaceTokenizerJson.describe(model.resolve("tokenizer.json"));
        Path otherEos = TinyDatasets.write(tmp.resolve("ds2"), TinyDatasets.rows(4), new TokenizerInfo(own.name(),
                own.vocabSize(), own.bosId(), 1, own.padId(), own.vocabHash()));
        e = assertThrows(IllegalArgumentException.class,
                () -> train(settings(otherEos, model, tmp.resolve("out2")), false, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("other special tokens") && e.getMessage().contains("EOS 1")
                && e.getMessage().contains("EOS 2"), e.getMessage());

        o.put("train.data.check-tokenizer", "false");
        o.put("train.steps", "1");
        String console = train(o, false, Long.MAX_VALUE);
        assertTrue(console.contains("warning (train.data.check-tokenizer = false)"), console);
        assertTrue(Files.isRegularFile(tmp.resolve("out/checkpoints/step-000001/model/config.json")));

        // eval --checkpoint follows the run's own train.data.check-tokenizer = false: a warning, not a refusal
        CommandRun r = CommandRun.of("eval", "--checkpoint", tmp.resolve("out").toString(), "--dataset", dataset.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning (--check-tokenizer off): dataset " + dataset) && r.err().contains("test-32"), r.err());
    }

    @Test
    void evalRefusesADatasetOfAnotherTokenizerAsTrainDoesUnlessTurnedOff(@TempDir Path tmp) throws IOException {
        Path model = bf16Model(tmp.resolve("base"));
        Path other = TinyDatasets.write(tmp.resolve("ds"), 4);   // tokenizer "test-32", another SHA-256
        CommandRun r = CommandRun.of("eval", "--model", model.toString(), "--dataset", other.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: dataset " + other + " was tokenized with test-32")
                && r.err().contains(model.resolve("tokenizer.json").toString()) && r.err().contains("another vocabulary")
                && r.err().strip().endsWith("or pass --check-tokenizer off to evaluate anyway"), r.err());
        assertEquals("", r.out(), "no result printed");

        r = CommandRun.of("eval", "--model", model.toString(), "--dataset", other.toString(), "--check-tokenizer", "off");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning (--check-tokenizer off)") && r.out().contains("\"perplexity\""), r.err() + r.out());

        Path own = matchingDataset(tmp.resolve("own"), model);
        r = CommandRun.of("eval", "--model", model.toString(), "--dataset", own.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("warning"), r.err());
    }


    @Test
    void aLoraAdapterCarriesTheTokenizerFilesToo(@TempDir Path tmp) throws IOException {
        Path model = bf16Model(tmp.resolve("base"));
        Map<String, String> o = settings(matchingDataset(tmp.resolve("ds"), model), model, tmp.resolve("out"));
        o.put("train.lora.enabled", "true");
        o.put("train.steps", "1");
        train(o, false, Long.MAX_VALUE);
        Path adapter = tmp.resolve("out/checkpoints/step-000001/adapter");
        assertTrue(Files.isRegularFile(adapter.resolve("adapter_config.json")));
        assertArrayEquals(Files.readAllBytes(model.resolve("tokenizer_config.json")),
                Files.readAllBytes(adapter.resolve("tokenizer_config.json")));
    }
}
