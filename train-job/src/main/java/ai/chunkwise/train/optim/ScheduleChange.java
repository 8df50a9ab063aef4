package ai.chunkwise.train.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What a resume with another {@code train.steps} does to the learning rate: the warm-up + cosine schedule is
 * stretched (or squeezed) to the new length, so the rate at the resume step jumps. Shown side by side, old and new,
 * so the change is seen before the run goes on, not found later in the loss curve.
 */
public final class ScheduleChange {
    private ScheduleChange() {
    }

    /**
     * @param fromStep the step the run resumes at (the next optimizer step's index)
     * @return console lines: the rate at a few steps from {@code fromStep} to the end under both lengths
     */
    public static List<String> describe(double peakLr, double minLr, long warmupSteps, long oldSteps, long newSteps,
                                        long fromStep) {
        LearningRateSchedule before = new LearningRateSchedule(peakLr, minLr, Math.min(warmupSteps, oldSteps), oldSteps);
        LearningRateSchedule after = new LearningRateSchedule(peakLr, minLr, warmupSteps, newSteps);
        TreeSet<Long> steps = new TreeSet<>();
        long last = Math.max(fromStep, newSteps - 1);
        for (int i = 0; i <= 4; i++) {
            steps.add(fromStep + (last - fromStep) * i / 4);
        }
        if (oldSteps - 1 > fromStep && oldSteps - 1 < last) {
            steps.add(oldSteps - 1);
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "resume: train.steps %d -> %d reshapes the learning-rate schedule "
                + "(warm-up + cosine to train.optimizer.min-lr at the last step); rate by step, old -> new:",
                oldSteps, newSteps));
        StringBuilder b = new StringBuilder(" ");
        for (long s : steps) {
            b.append(String.format(Locale.ROOT, " step %d: %.2e -> %.2e%s", s + 1, before.lrAt(s), after.lrAt(s),
                    s == steps.last() ? "" : " |"));
        }
        lines.add(b.toString());
        lines.add(String.format(Locale.ROOT, "  (to keep the old shape, resume with train.steps = %d; the rate then "
                + "continues from %.2e)", oldSteps, before.lrAt(fromStep)));
        return lines;
    }
}
