package ai.chunkwise.train.reliability;

import ai.chunkwise.train.data.TinyDatasets;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, finding 3: --resume compares the run's configuration with the checkpoint's own. */
class ResumeIdentityTest {

    @Test
    void changesThatBreakTheRunAreRefusedNamingEachKeyAndBothValues(@TempDir Path tmp) {
        Map<String, String> o = firstPart(tmp);
        Map<String, String> changed = new LinkedHashMap<>(o);
        changed.put("train.batch-size", "2");
        changed.put("train.optimizer.lr", "0.02");
        changed.put("train.method.name", "full");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainRuns.train(changed, true));
        String m = e.getMessage();
        assertTrue(m.contains("train.batch-size: checkpoint 1, now 2"), m);
        assertTrue(m.contains("train.optimizer.lr: checkpoint 0.01, now 0.02"), m);
        assertTrue(m.contains("train.method.name: checkpoint seco, now full"), m);
        assertTrue(m.contains("--force-resume-with-changes"), m);
    }

    @Test
    void aDifferentDatasetIsRefusedEvenThoughItHasTheSameShape(@TempDir Path tmp) {
        Map<String, String> o = firstPart(tmp);
        Path other = TinyDatasets.write(tmp.resolve("other-ds"), 7);   // same geometry, one row more
        Map<String, String> changed = new LinkedHashMap<>(o);
        changed.put("train.data.dataset", TrainRuns.quote(other));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainRuns.train(changed, true));
        assertTrue(e.getMessage().contains("train.data.dataset: checkpoint " + tmp.resolve("ds")), e.getMessage());
        assertTrue(e.getMessage().contains("now " + other), e.getMessage());
    }

    @Test
    void aDatasetChangedInPlaceIsRefusedUnderItsOwnKeyOnly(@TempDir Path tmp) throws IOException {
        // issue 20, item 15: the refusal also listed "train.data.sources: checkpoint [] ..., now [] ..."
        Map<String, String> o = firstPart(tmp);
        try (var walk = Files.walk(tmp.resolve("ds"))) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        TinyDatasets.write(tmp.resolve("ds"), 7);   // same path, other content
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainRuns.train(o, true));
        assertTrue(e.getMessage().contains("train.data.dataset: checkpoint " + tmp.resolve("ds") + " (content "),
                e.getMessage());
        assertFalse(e.getMessage().contains("train.data.sources"), e.getMessage());
    }

    @Test
    void moreStepsAndAMovedDatasetAreAllowedAndLogged(@TempDir Path tmp) throws IOException {
        Map<String, String> o = firstPart(tmp);
        Path moved = tmp.resolve("moved-ds");
        copyTree(tmp.resolve("ds"), moved);
        Map<String, String> changed = new LinkedHashMap<>(o);
        changed.put("train.steps", "3");
        changed.put("train.data.dataset", TrainRuns.quote(moved));
        TrainRuns.Run r = TrainRuns.train(changed, true);
        assertEquals(2, r.report().get("resumed_from_step").asInt());
        assertEquals(3, r.report().get("steps_done").asInt());
        assertTrue(r.console().contains("resume: allowed change train.steps: 2 -> 3"), r.console());
        assertTrue(r.console().contains("(same content)"), r.console());
        JsonNode changes = r.report().get("resume_changes");
        assertEquals(2, changes.size(), changes.toString());
        assertEquals("allowed", changes.get(0).get("kind").asText());
    }

    @Test
    void forcedChangesAreRecordedInTheReport(@TempDir Path tmp) {
        Map<String, String> o = firstPart(tmp);
        Map<String, String> changed = new LinkedHashMap<>(o);
        changed.put("train.steps", "3");
        changed.put("train.optimizer.lr", "0.005");
        TrainRuns.Run r = TrainRuns.trainForced(changed);
        assertEquals(3, r.report().get("steps_done").asInt());
        JsonNode lr = null;
        for (JsonNode c : r.report().get("resume_changes")) {
            if (c.get("key").asText().equals("train.optimizer.lr")) {
                lr = c;
            }
        }
        assertTrue(lr != null && lr.get("kind").asText().equals("forced") && lr.get("now").asText().equals("0.005"),
                r.report().toString());
        assertTrue(r.console().contains("FORCED change train.optimizer.lr: 0.01 -> 0.005"), r.console());
    }

    private static Map<String, String> firstPart(Path tmp) {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.steps", "2");
        TrainRuns.train(o, false);
        return o;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }
}
