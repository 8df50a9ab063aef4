package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The benchmark shapes in conf/models/ (config.json files as Hugging Face serves them) read as the published
 * architectures: the expected values are the model cards' (layers, widths, heads, vocabulary, tying, RoPE).
 */
class ModelConfigsTest {
    private static final Path MODELS = Path.of("..", "conf", "models");

    @Test
    void smolLm2() {
        assertEquals(new LlamaConfig(49152, 576, 1536, 30, 9, 3, 64, 1e-5, 100000.0, null, true, 8192, 0, 0),
                LlamaConfig.fromJson(MODELS.resolve("smollm2-135m.json")));
    }

    @Test
    void llama32OneB() {
        assertEquals(new LlamaConfig(128256, 2048, 8192, 16, 32, 8, 64, 1e-5, 500000.0,
                        new RopeScaling.Llama3(32.0, 1.0, 4.0, 8192), true, 131072, 128000, 128001),
                LlamaConfig.fromJson(MODELS.resolve("llama-3.2-1b.json")));
    }

    @Test
    void llama31EightB() {
        assertEquals(new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000.0,
                        new RopeScaling.Llama3(8.0, 1.0, 4.0, 8192), false, 131072, 128000, 128001),
                LlamaConfig.fromJson(MODELS.resolve("llama-3.1-8b.json")));
    }
}
