package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model directories for transformers: stored type, shards + index, generation config, tokenizer files. */
class HfModelWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 2 layers, hidden 16: 14 tensors, the largest (embeddings, lm_head) 32 x 16. */
    private static final LlamaConfig CONFIG = new LlamaConfig(32, 16, 32, 2, 2, 1, 8, 1e-5, 10000.0, null, false, 64, 1, 2);

    /** The header of a safetensors file, parsed here by hand: an 8-byte little-endian length, then JSON. */
    static JsonNode header(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
    }

    /** The raw 16-bit values of one tensor of {@code file}. */
    static short[] rawShorts(Path file, String tensor) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode e = header(file).get(tensor);
        int begin = (int) (8 + n + e.get("data_offsets").get(0).asLong());
        int end = (int) (8 + n + e.get("data_offsets").get(1).asLong());
        short[] out = new short[(end - begin) / 2];
        ByteBuffer.wrap(all, begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(out);
        return out;
    }

    /** bfloat16 by round-to-nearest-even, from the float's bits (finite values). */
    static short bf16(float f) {
        int bits = Float.floatToIntBits(f);
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    @Test
    void bfloat16WeightsAreTheRoundedFloat32Weights(@TempDir Path dir) throws IOException {
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 3, 0.7, DataType.FLOAT);
        Path out = dir.resolve("m");
        HfCheckpoint.save(out, CONFIG, w, DataType.FLOAT, new ModelExport("bfloat16", ModelExport.DEFAULT_MAX_SHARD_BYTES, null, null));
        Path file = out.resolve(HfCheckpoint.WEIGHTS_FILE);
        assertEquals("bfloat16", JSON.readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText());
        assertEquals(DataType.BFLOAT16, HfCheckpoint.storedFloatType(out));
        for (Map.Entry<String, INDArray> e : w.entrySet()) {
            assertEquals("BF16", header(file).get(e.getKey()).get("dtype").asText());
            float[] f = e.getValue().dup('c').data().asFloat();
            short[] stored = rawShorts(file, e.getKey());
            assertEquals(f.length, stored.length);
            for (int i = 0; i < f.length; i++) {
                assertEquals(bf16(f[i]), stored[i], e.getKey() + "[" + i + "] = " + f[i]);
            }
        }
        // values that are exactly halfway round to even: 1 + 2^-8 -> 1, 1 + 3 * 2^-8 -> 1 + 2^-6
        Map<String, INDArray> halfway = new java.util.LinkedHashMap<>(w);
        INDArray norm = w.get("model.norm.weight").dup();
        norm.putScalar(0, 1f + 0x1.0p-8f);
        norm.putScalar(1, 1f + 3 * 0x1.0p-8f);
        halfway.put("model.norm.weight", norm);
        HfCheckpoint.save(dir.resolve("t"), CONFIG, halfway, DataType.FLOAT,
                new ModelExport("bfloat16", ModelExport.DEFAULT_MAX_SHARD_BYTES, null, null));
        short[] s = rawShorts(dir.resolve("t").resolve(HfCheckpoint.WEIGHTS_FILE), "model.norm.weight");
        assertEquals((short) 0x3F80, s[0]);
        assertEquals((short) 0x3F82, s[1]);
    }

    @Test
    void autoKeepsTheSourceType(@TempDir Path dir) {
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 4, 0.5, DataType.FLOAT);
        Path bf16 = dir.resolve("bf16");
        Path f16 = dir.resolve("f16");
        HfCheckpoint.save(bf16, CONFIG, w, DataType.FLOAT, new ModelExport("bfloat16", 1L << 30, null, null));
        HfCheckpoint.save(f16, CONFIG, w, DataType.FLOAT, new ModelExport("float16", 1L << 30, null, null));
        assertEquals(DataType.BFLOAT16, new ModelExport("auto", 1L << 30, bf16, null).storeAs(DataType.FLOAT));
        assertEquals(DataType.HALF, new ModelExport("auto", 1L << 30, f16, null).storeAs(DataType.FLOAT));
        assertEquals(DataType.DOUBLE, new ModelExport("auto", 1L << 30, null, null).storeAs(DataType.DOUBLE));
        assertEquals(DataType.FLOAT, new ModelExport("float32", 1L << 30, bf16, null).storeAs(DataType.DOUBLE));
        // float16 written and read back: every stored value is the float's nearest half
        HfCheckpoint back = HfCheckpoint.load(f16, DataType.FLOAT);
        INDArray a = w.get("model.layers.0.mlp.up_proj.weight");
        INDArray b = back.weights().get("model.layers.0.mlp.up_proj.weight");
        assertTrue(a.sub(b).amaxNumber().doubleValue() <= a.amaxNumber().doubleValue() * 0x1.0p-11, "within half an f16 ulp");
    }

    @Test
    void shardedAboveTheSizeWithAnIndexAndReadBackExactly(@TempDir Path dir) throws IOException {
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 5, 0.5, DataType.FLOAT);
        long max = 3000;   // bytes: the 32 x 16 float32 tensors (2048 bytes) fit one per shard, small ones share
        Path out = dir.resolve("m");
        HfCheckpoint.save(out, CONFIG, w, DataType.FLOAT, new ModelExport("float32", max, null, null));
        assertFalse(Files.exists(out.resolve(HfCheckpoint.WEIGHTS_FILE)));
        JsonNode index = JSON.readTree(out.resolve(HfCheckpoint.INDEX_FILE).toFile());
        long expectedTotal = w.values().stream().mapToLong(t -> t.length() * 4).sum();
        assertEquals(expectedTotal, index.get("metadata").get("total_size").asLong());
        Set<String> files = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = index.get("weight_map").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            names.add(e.getKey());
            files.add(e.getValue().asText());
            assertTrue(header(out.resolve(e.getValue().asText())).has(e.getKey()), e.getKey() + " is in its shard");
        }
        assertEquals(new TreeSet<>(w.keySet()), names);
        int n = files.size();
        assertTrue(n > 2, "several shards: " + files);
        int i = 1;
        for (String f : files) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", i++, n), f);
            long dataBytes = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = header(out.resolve(f)).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("__metadata__")) {
                    dataBytes += e.getValue().get("data_offsets").get(1).asLong() - e.getValue().get("data_offsets").get(0).asLong();
                }
            }
            assertTrue(dataBytes <= max, f + " holds " + dataBytes + " bytes");
        }
        HfCheckpoint back = HfCheckpoint.load(out, DataType.FLOAT);
        for (Map.Entry<String, INDArray> e : w.entrySet()) {
            assertArrayEquals(e.getValue().dup('c').data().asFloat(), back.weights().get(e.getKey()).dup('c').data().asFloat(), e.getKey());
        }
    }

    @Test
    void generationConfigAndTokenizerFilesComeAlong(@TempDir Path dir) throws IOException {
        Path source = dir.resolve("src");
        Files.createDirectories(source);
        Files.writeString(source.resolve("tokenizer.json"), "{\"x\": 1}");
        Files.writeString(source.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        Map<String, INDArray> w = RandomInit.weights(CONFIG, 6, 0.5, DataType.FLOAT);
        Path out = dir.resolve("m");
        HfCheckpoint.save(out, CONFIG, w, DataType.FLOAT, new ModelExport("auto", 1L << 30, null, source));
        assertEquals("{\"x\": 1}", Files.readString(out.resolve("tokenizer.json")));
        assertEquals("{\"bos_token\": \"<s>\"}", Files.readString(out.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(out.resolve("special_tokens_map.json")));
        JsonNode g = JSON.readTree(out.resolve(HfModelWriter.GENERATION_CONFIG_FILE).toFile());
        assertEquals(1, g.get("bos_token_id").asInt());
        assertEquals(2, g.get("eos_token_id").asInt());

        // a source model's own generation_config.json (several EOS ids) is kept as it is
        Files.writeString(source.resolve("config.json"), "{}");
        Files.writeString(source.resolve(HfModelWriter.GENERATION_CONFIG_FILE), "{\"eos_token_id\": [2, 3]}");
        HfCheckpoint.save(dir.resolve("m2"), CONFIG, w, DataType.FLOAT, new ModelExport("float32", 1L << 30, source, source));
        assertEquals("{\"eos_token_id\": [2, 3]}", Files.readString(dir.resolve("m2").resolve(HfModelWriter.GENERATION_CONFIG_FILE)));
    }

    @Test
    void float16RoundingMatchesKnownBitPatterns() {
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1f));
        assertEquals((short) 0xC000, HalfFloats.floatToF16(-2f));
        assertEquals((short) 0x2E66, HalfFloats.floatToF16(0.1f));
        assertEquals((short) 0x3555, HalfFloats.floatToF16(1f / 3));
        assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65504f));
        assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65519f));
        assertEquals((short) 0x7C00, HalfFloats.floatToF16(65520f));
        assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1.0p-24f));
        assertEquals((short) 0x0000, HalfFloats.floatToF16(0x1.0p-25f));        // halfway: to even (0)
        assertEquals((short) 0x0002, HalfFloats.floatToF16(0x1.8p-24f));        // halfway 1.5: to even (2)
        assertEquals((short) 0x0400, HalfFloats.floatToF16(0x1.0p-14f));        // smallest normal
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1f + 0x1.0p-11f));   // halfway: to even (1.0)
        assertEquals((short) 0x3C02, HalfFloats.floatToF16(1f + 3 * 0x1.0p-11f));
        assertEquals((short) 0xFC00, HalfFloats.floatToF16(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN))));
    }
}
