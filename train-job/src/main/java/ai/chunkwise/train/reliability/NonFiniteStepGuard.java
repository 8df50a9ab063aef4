package ai.chunkwise.train.reliability;

/**
 * Counts consecutive optimizer steps whose loss or gradient was not finite (such a step is skipped, so the
 * weights stay as they were) and stops the run once there are {@code limit} of them in a row: a run that only
 * skips steps learns nothing, and must not end "complete".
 */
public final class NonFiniteStepGuard {
    private final long limit;
    private long consecutive;

    /** @param limit consecutive non-finite steps that stop the run (0 = never stop) */
    public NonFiniteStepGuard(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        }
        this.limit = limit;
    }

    /**
     * Records one finished step.
     *
     * @throws TrainingDivergedException on the {@code limit}-th non-finite step in a row
     */
    public void record(long step, boolean finite, double loss, double gradNorm) {
        if (finite) {
            consecutive = 0;
            return;
        }
        consecutive++;
        if (limit > 0 && consecutive >= limit) {
            throw new TrainingDivergedException(consecutive + " consecutive optimizer steps (up to step " + step
                    + ") had a non-finite loss or gradient (last: loss " + loss + ", grad norm " + gradNorm
                    + ") and were skipped: training has diverged. Lower train.optimizer.lr, enable "
                    + "train.optimizer.max-grad-norm, or check the data, and continue from the newest finite "
                    + "checkpoint with the same command plus --resume --force-resume-with-changes --set "
                    + "train.optimizer.lr=<lower> (--resume skips the checkpoints of non-finite steps). The limit is "
                    + "train.max-nonfinite-steps");
        }
    }

    public long consecutive() {
        return consecutive;
    }
}
