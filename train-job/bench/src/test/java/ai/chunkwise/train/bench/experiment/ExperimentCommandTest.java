package ai.chunkwise.train.bench.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one check of the {@code experiment} command: both experiments' --quick variants run end to end and write
 * results.json (one record per method/seed/distance, method names as train spells them), report.html and the
 * plots. Not their science: the quick runs train for 3 steps.
 */
class ExperimentCommandTest {

    @Test
    void quickRunsWriteResultsReportsAndPlots(@TempDir Path tmp) throws Exception {
        ObjectMapper json = new ObjectMapper();

        Path retrieval = tmp.resolve("retrieval");
        assertEquals(0, new CommandLine(new ExperimentCommand()).execute("retrieval", "--quick", "--out",
                retrieval.toString()));
        JsonNode r = json.readTree(retrieval.resolve("results.json").toFile());
        assertEquals("retrieval", r.get("experiment").asText());
        Set<String> methods = new HashSet<>();
        int records = 0;
        for (JsonNode rec : r.get("records")) {
            methods.add(rec.get("method").asText());
            int d = rec.get("distance").asInt();
            assertTrue(d >= 1 && d <= 3, "distance " + d);
            assertEquals(2, rec.get("accuracy_per_position").size());
            double acc = rec.get("accuracy").asDouble();
            assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
            assertTrue(rec.get("answer_loss").asDouble() > 0);
            records++;
        }
        assertEquals(Set.of("seco", "spaco", "seco-no-kv-grad"), methods);
        assertEquals(3 * 3, records, "3 methods x 1 seed x 3 distances");
        assertTrue(Files.readString(retrieval.resolve("report.html")).contains("retrieval-accuracy.png"));
        assertTrue(Files.size(retrieval.resolve("retrieval-accuracy.png")) > 1000);

        Path ttq = tmp.resolve("ttq");
        assertEquals(0, new CommandLine(new ExperimentCommand()).execute("time-to-quality", "--quick", "--out",
                ttq.toString()));
        JsonNode t = json.readTree(ttq.resolve("results.json").toFile());
        assertEquals(3, t.get("records").size(), "seco, spaco bernoulli, spaco importance at k/8, one seed");
        for (JsonNode rec : t.get("records")) {
            assertTrue(rec.get("final_eval_loss").asDouble() > 0);
            assertTrue(rec.get("train_cpu_s").asDouble() > 0);
        }
        assertEquals(2, t.get("gradient_variance").size());
        for (JsonNode v : t.get("gradient_variance")) {
            assertTrue(v.get("relative_mse").asDouble() >= 0);
        }
        assertEquals(3, t.get("summary").get("methods").size());
        assertTrue(Files.size(ttq.resolve("ttq-loss-vs-cpu.png")) > 1000);
        assertTrue(Files.readString(ttq.resolve("report.md")).contains("gap to seco"));
    }

    @Test
    void methodLabelsWithCommasSurviveTheMethodsOption() {
        ExperimentCommand command = new ExperimentCommand();
        new CommandLine(command).parseArgs("retrieval", "--methods", "spaco(uniform,t=2),seco,spaco(importance,t=1=k/4)",
                "--out", "unused");
        assertEquals(java.util.List.of("spaco(uniform,t=2)", "seco", "spaco(importance,t=1=k/4)"), command.onlyMethods);
    }
}
