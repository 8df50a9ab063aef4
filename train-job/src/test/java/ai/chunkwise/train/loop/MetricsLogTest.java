package ai.chunkwise.train.loop;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** metrics.jsonl's entries come back from the file (nothing is held in memory), a resume keeps its own steps only. */
class MetricsLogTest {
    @Test
    void entriesAreReadBackFromTheFileAndAResumeDropsLaterSteps(@TempDir Path out) throws Exception {
        try (MetricsLog log = new MetricsLog(out, 0)) {
            for (int step = 1; step <= 3; step++) {
                log.append(MetricsLog.newEntry().put("step", step).put("loss", 4.0 - step));
            }
            assertEquals(List.of(1L, 2L, 3L), steps(log.entries()));
            assertEquals(3.0, log.entries().get(0).path("loss").asDouble());
        }
        // a crash cut the last line short
        Files.writeString(out.resolve(MetricsLog.FILE_NAME), "{\"step\":4,\"lo", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        try (MetricsLog log = new MetricsLog(out, 2)) {
            assertEquals(List.of(1L, 2L), steps(log.entries()));
            log.append(MetricsLog.newEntry().put("step", 3).put("loss", 0.5));
            assertEquals(List.of(1L, 2L, 3L), steps(log.entries()));
            assertEquals(0.5, log.entries().get(2).path("loss").asDouble());
        }
    }

    private static List<Long> steps(List<JsonNode> entries) {
        return entries.stream().map(e -> e.path("step").asLong()).toList();
    }
}
