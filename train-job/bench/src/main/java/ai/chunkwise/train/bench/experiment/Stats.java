package ai.chunkwise.train.bench.experiment;

import java.util.List;

/** Mean, sample standard deviation and a Student-t 95% half-width for the few seeds an experiment runs. */
final class Stats {
    /** Two-sided 97.5% quantiles of Student's t for 1..10 degrees of freedom (standard tables). */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};

    private Stats() {
    }

    static double mean(List<Double> xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return xs.isEmpty() ? Double.NaN : s / xs.size();
    }

    static double sd(List<Double> xs) {
        if (xs.size() < 2) {
            return Double.NaN;
        }
        double m = mean(xs);
        double s = 0;
        for (double x : xs) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (xs.size() - 1));
    }

    /** Half-width of the 95% confidence interval of the mean (NaN below 2 values). */
    static double halfWidth95(List<Double> xs) {
        int df = xs.size() - 1;
        if (df < 1) {
            return Double.NaN;
        }
        double t = df <= T975.length ? T975[df - 1] : 1.96;
        return t * sd(xs) / Math.sqrt(xs.size());
    }
}
