package ai.chunkwise.train.loop;

import com.typesafe.config.Config;

/**
 * {@code train.eval}: the held-out dataset the trainer evaluates during training, how often, and on how many of
 * its sequences.
 *
 * @param dataset      the held-out dataset, local or any Hadoop file system path (e.g. the tokenize job's
 *                     {@code <output>-eval}), or null: no evaluation
 * @param everySteps   evaluate after every N optimizer steps (0: only after the last step)
 * @param maxSequences evaluate the first N sequences of the dataset (0: all)
 */
public record EvalSettings(String dataset, long everySteps, long maxSequences) {

    public EvalSettings {
        if (everySteps < 0) {
            throw new IllegalArgumentException("'train.eval.every-steps' must be >= 0 (0 = only after the last step), got "
                    + everySteps);
        }
        if (maxSequences < 0) {
            throw new IllegalArgumentException("'train.eval.max-sequences' must be >= 0 (0 = all), got " + maxSequences);
        }
    }

    static EvalSettings from(Config train) {
        Config e = train.getConfig("eval");
        String dataset = e.getString("dataset").trim();
        return new EvalSettings(dataset.isEmpty() ? null : dataset, e.getLong("every-steps"),
                e.getLong("max-sequences"));
    }

    public boolean enabled() {
        return dataset != null;
    }

    /** Whether to evaluate after optimizer step {@code step} (1-based); always after the run's last step. */
    public boolean dueAfter(long step, boolean last) {
        return enabled() && (last || everySteps > 0 && step % everySteps == 0);
    }
}
