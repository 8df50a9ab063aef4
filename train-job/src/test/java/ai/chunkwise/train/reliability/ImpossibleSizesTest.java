package ai.chunkwise.train.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, finding 4: impossible sizes fail at once, before any allocation, saying what they need. */
class ImpossibleSizesTest {

    @Test
    void aBillionLayersAHiddenSizeOf65536AndAn8BModelFailAtOnceSayingWhatTheyNeed(@TempDir Path tmp) throws IOException {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        String[][] configs = {
                {"layers", "\"num_hidden_layers\": 1000000000, \"hidden_size\": 16, \"intermediate_size\": 32, "
                        + "\"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 8, \"vocab_size\": 32"},
                {"hidden", "\"num_hidden_layers\": 2, \"hidden_size\": 65536, \"intermediate_size\": 344, "
                        + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 32"},
                {"8b", "\"num_hidden_layers\": 32, \"hidden_size\": 4096, \"intermediate_size\": 14336, "
                        + "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256"},
        };
        for (String[] c : configs) {
            Path config = tmp.resolve(c[0] + ".json");
            Files.writeString(config, "{\"model_type\": \"llama\", " + c[1] + "}");
            o.put("train.model.init-config", TrainRuns.quote(config));
            o.put("train.output", TrainRuns.quote(tmp.resolve("out-" + c[0])));
            long t0 = System.nanoTime();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainRuns.train(o, false),
                    c[0]);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains("training needs about")
                    && e.getMessage().contains("GiB") && e.getMessage().contains("smaller model"), e.getMessage());
            // before: minutes of allocation, then OutOfMemoryError / ArithmeticException (generous bound: a check)
            assertTrue(seconds < 10, c[0] + " took " + seconds + " s");
            assertTrue(!Files.exists(tmp.resolve("out-" + c[0]).resolve("checkpoints")), "nothing was written");
        }
    }
}
