package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.optim.ScheduleChange;
import ai.chunkwise.train.reliability.ResumeCompatibility;
import ai.chunkwise.train.reliability.RunFingerprint;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a run starts: from scratch, or from the newest healthy checkpoint that continues this configuration.
 *
 * @param from    the checkpoint resumed from (empty: from scratch)
 * @param state   the step, data position, token count and seeds the loop starts with
 * @param changes the configuration changes found against the checkpoint's own (allowed or forced)
 */
record ResumePoint(Optional<CheckpointStore.Resumable> from, TrainerState state,
                   List<ResumeCompatibility.Change> changes) {

    Optional<Path> checkpoint() {
        return from.map(CheckpointStore.Resumable::directory);
    }

    /**
     * Refuses to start over an earlier run's checkpoints without --resume, removes what killed runs left behind,
     * and with --resume finds the newest healthy checkpoint and checks that it continues this configuration:
     * safe changes are logged, the others refused (naming each key and both values) unless {@code force}.
     */
    static ResumePoint find(TrainSettings s, CheckpointStore store, boolean resume, RunFingerprint fingerprint,
                            boolean force, PrintStream console) {
        List<Path> existing = store.stepDirectories();
        if (!existing.isEmpty() && !resume) {
            throw new IllegalArgumentException("output " + s.output() + " already holds checkpoints (newest: "
                    + existing.get(existing.size() - 1).getFileName() + "): pass --resume to continue that run, or "
                    + "choose another output");
        }
        store.removeOrphans().forEach(p -> console.println("removed " + p + ", left behind by a killed run"));
        Optional<CheckpointStore.Resumable> resumable = resume
                ? store.resumable(s.model().dataType(), console::println) : Optional.empty();
        TrainerState state = resumable.map(CheckpointStore.Resumable::state).orElse(new TrainerState(0,
                DataPosition.start(s.data().sources().size()), 0, s.data().seed(), s.method().seed(),
                s.model().initSeed(), s.model().loraSeed()));
        List<ResumeCompatibility.Change> changes = resumable.isEmpty() ? List.of()
                : checkChanges(s, resumable.get().directory(), fingerprint, force, console);
        if (!force) {
            resumable.ifPresent(r -> requireSameSeeds(s, state, r.directory()));
        }
        long resumeStep = state.step();
        changes.stream().filter(c -> c.key().equals("train.steps") && c.checkpointValue().matches("\\d+"))
                .findFirst().ifPresent(c -> ScheduleChange.describe(s.optimizer().lr(), s.optimizer().minLr(),
                        s.optimizer().warmupSteps(), Long.parseLong(c.checkpointValue()), s.steps(), resumeStep)
                        .forEach(console::println));
        return new ResumePoint(resumable, state, changes);
    }

    /** The changes as report.json records them, under {@code resume_changes}. */
    void putChanges(ObjectNode report) {
        ArrayNode a = report.putArray("resume_changes");
        for (ResumeCompatibility.Change c : changes) {
            a.addObject().put("key", c.key()).put("checkpoint", c.checkpointValue()).put("now", c.runValue())
                    .put("kind", c.safe() ? "allowed" : "forced");
        }
    }

    /** Compares the run's configuration with the checkpoint's own train.conf and fingerprint. */
    private static List<ResumeCompatibility.Change> checkChanges(TrainSettings s, Path checkpoint,
                                                                 RunFingerprint fingerprint, boolean force,
                                                                 PrintStream console) {
        Path conf = checkpoint.resolve(CheckpointStore.CONFIG_FILE);
        String before;
        try {
            before = Files.readString(conf);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + conf + " (" + e.getMessage() + "): the checkpoint's "
                    + "configuration is needed to check that --resume continues the same run");
        }
        List<ResumeCompatibility.Change> changes = ResumeCompatibility.compare(before, s.rendered(),
                RunFingerprint.read(checkpoint), fingerprint);
        List<ResumeCompatibility.Change> breaking = changes.stream().filter(c -> !c.safe()).toList();
        for (ResumeCompatibility.Change c : changes) {
            if (c.safe()) {
                console.println("resume: allowed change " + c);
            }
        }
        if (!breaking.isEmpty() && !force) {
            StringBuilder m = new StringBuilder("--resume from " + checkpoint + " with a configuration that changes "
                    + "the run; the checkpoint was written with different values for:");
            breaking.forEach(c -> m.append("\n  ").append(c.key()).append(": checkpoint ").append(c.checkpointValue())
                    .append(", now ").append(c.runValue()));
            m.append("\nResume with the run's own configuration (").append(conf).append("), start a new run in another "
                    + "output directory, or pass --force-resume-with-changes to continue anyway (report.json records it)");
            throw new IllegalArgumentException(m.toString());
        }
        breaking.forEach(c -> console.println("resume: FORCED change " + c));
        return changes;
    }

    private static void requireSameSeeds(TrainSettings s, TrainerState state, Path checkpoint) {
        if (state.dataSeed() != s.data().seed() || state.methodSeed() != s.method().seed()
                || state.initSeed() != s.model().initSeed() || state.loraSeed() != s.model().loraSeed()) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was trained with seeds "
                    + "data/method/init/lora = " + state.dataSeed() + "/" + state.methodSeed() + "/" + state.initSeed()
                    + "/" + state.loraSeed() + " but the configuration now says " + s.data().seed() + "/" + s.method().seed()
                    + "/" + s.model().initSeed() + "/" + s.model().loraSeed() + ": resume with the run's own configuration ("
                    + checkpoint.resolve(CheckpointStore.CONFIG_FILE) + ")");
        }
    }
}
