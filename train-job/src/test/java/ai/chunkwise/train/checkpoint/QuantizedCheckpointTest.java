package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.RandomLlama;
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
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A quantized checkpoint whose config.json does not say so (quantization_config stripped) is still recognised by
 * its tensors, and the message says to dequantize rather than only that a dtype is unsupported.
 */
class QuantizedCheckpointTest {
    @TempDir
    Path dir;

    private static final LlamaConfig TINY = RandomLlama.config(1, 16, 2, 1, 32, 40, true, null);

    @Test
    void packedIntegerWeightsAreNamedQuantized() throws IOException {
        Files.writeString(dir.resolve("config.json"), TINY.toJson());
        // a bitsandbytes-style U8 tensor: safetensors header written by hand (8-byte length + JSON + data)
        String header = "{\"model.embed_tokens.weight\":{\"dtype\":\"U8\",\"shape\":[320],\"data_offsets\":[0,320]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + 320).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json);
        Files.write(dir.resolve("model.safetensors"), file.array());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HfCheckpoint.load(dir, DataType.FLOAT));
        assertTrue(e.getMessage().contains("U8") && e.getMessage().contains("looks quantized")
                && e.getMessage().contains("dequantize to bf16 first"), e.getMessage());
    }

    @Test
    void gptqTensorNamesAreNamedQuantized() throws IOException {
        Files.writeString(dir.resolve("config.json"), TINY.toJson());
        Map<String, INDArray> tensors = new LinkedHashMap<>(RandomLlama.weights(TINY, 1));
        INDArray q = tensors.remove("model.layers.0.self_attn.q_proj.weight");
        tensors.put("model.layers.0.self_attn.q_proj.qweight", q);
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"), DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HfCheckpoint.load(dir, DataType.FLOAT));
        assertTrue(e.getMessage().contains("is quantized") && e.getMessage().contains("q_proj.qweight")
                && e.getMessage().contains("dequantize to bf16 first"), e.getMessage());
    }
}
