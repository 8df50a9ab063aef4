package ai.chunkwise.train.optim;

/**
 * Linear warm-up from 0 to {@code peakLr} over {@code warmupSteps}, then a half cosine from {@code peakLr}
 * down to {@code minLr} at {@code totalSteps} (and {@code minLr} after). The same curve as transformers'
 * get_cosine_with_min_lr_schedule_with_warmup: {@code lrAt(step)} is the rate for the optimizer step whose
 * index, counted from 0, is {@code step}.
 */
public record LearningRateSchedule(double peakLr, double minLr, long warmupSteps, long totalSteps) {
    public LearningRateSchedule {
        if (!(peakLr >= 0) || Double.isInfinite(peakLr) || !(minLr >= 0) || minLr > peakLr) {
            throw new IllegalArgumentException("need 0 <= minLr <= peakLr, got minLr " + minLr + ", peakLr " + peakLr);
        }
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got warmup "
                    + warmupSteps + ", total " + totalSteps);
        }
    }

    public double lrAt(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        if (step < warmupSteps) {
            return peakLr * step / warmupSteps;
        }
        if (step >= totalSteps) {
            return minLr;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
