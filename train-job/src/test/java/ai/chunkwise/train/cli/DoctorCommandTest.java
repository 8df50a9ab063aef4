package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.checkpoint.SafeTensors;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train-job doctor} on the CPU backend (issue #20, "For users with a GPU"). */
class DoctorCommandTest {
    private static final Path BUNDLED = Path.of("src/main/resources/ai/chunkwise/train/doctor/tiny-llama3-tied");

    @Test
    void doctorPrintsTheBackendAndMemoryAndPassesTheFloat64GradientCheck() {
        CommandRun r = CommandRun.of("doctor");
        String text = r.out();
        assertEquals(0, r.code(), text + r.err());
        assertTrue(text.startsWith("backend:  CPU, native build linux-x86_64"), text);
        assertTrue(text.contains("\nmemory:   ") && text.contains("GiB for native arrays"), text);
        assertTrue(text.lines().filter(l -> l.contains("worst gradient") && l.endsWith(": ok")).count() == 2,
                "full back-propagation and SeCO both agree: " + text);
        assertTrue(text.strip().endsWith("doctor: this backend computes the reference gradients"), text);
    }

    @Test
    void theBundledFixtureIsTheTestFixtureWithoutItsLogits() throws Exception {
        Path source = HfFixtures.float64Root().resolve("tiny-llama3-tied");
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            assertArrayEquals(Files.readAllBytes(source.resolve(f)), Files.readAllBytes(BUNDLED.resolve(f)), f);
        }
        Map<String, INDArray> full = SafeTensors.read(source.resolve("reference-float64.safetensors"), DataType.DOUBLE);
        Map<String, INDArray> bundled = SafeTensors.read(BUNDLED.resolve("reference-float64.safetensors"), DataType.DOUBLE);
        full.remove("logits");
        assertEquals(full.keySet(), bundled.keySet());
        full.forEach((name, t) -> assertEquals(t, bundled.get(name), name));
        assertTrue(Files.size(BUNDLED.resolve("reference-float64.safetensors")) + Files.size(BUNDLED.resolve("model.safetensors"))
                < 1 << 20, "small enough to ship in the product jar");
    }
}
