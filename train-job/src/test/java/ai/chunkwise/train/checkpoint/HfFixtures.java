package ai.chunkwise.train.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the golden Hugging Face fixtures: -Dchunkwise.fixtures=DIR if given, else the copy in
 * src/test/resources (present in every clone, unlike the shared folder outside the repository).
 */
public final class HfFixtures {
    private HfFixtures() {
    }

    public static Path root() {
        String override = System.getProperty("chunkwise.fixtures");
        Path dir = override != null ? Path.of(override) : Path.of("src/test/resources/fixtures/hf-llama");
        if (!Files.isDirectory(dir.resolve("tiny-llama-gqa"))) {
            throw new IllegalStateException("HF fixtures not found at " + dir.toAbsolutePath()
                    + ": run the tests from the train-job module or pass -Dchunkwise.fixtures=DIR");
        }
        return dir;
    }

    /** 3 layers, hidden 64, 4 heads, 2 KV heads, vocab 384, untied; full fine-tuning references. */
    public static Path gqa() {
        return root().resolve("tiny-llama-gqa");
    }

    /** The same architecture with a PEFT LoRA adapter in adapter/ (r=4, alpha=8, q_proj and v_proj). */
    public static Path gqaLora() {
        return root().resolve("tiny-llama-gqa-lora");
    }

    /**
     * True-float64 references of transformers' Llama for the same checkpoints (plus tiny-llama3-tied), made by
     * train-job/tools/make_float64_references.py: HF's modules with their float32 casts (RMSNorm, rotary)
     * removed, so a float64 implementation can be checked to 1e-9 and below.
     */
    public static Path float64Root() {
        Path dir = Path.of("src/test/resources/fixtures/hf-llama-float64");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("float64 HF references not found at " + dir.toAbsolutePath()
                    + ": run the tests from the train-job module");
        }
        return dir;
    }
}
