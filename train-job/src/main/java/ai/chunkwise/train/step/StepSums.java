package ai.chunkwise.train.step;

import ai.chunkwise.train.data.DataPosition;

import java.util.Map;

/**
 * What the micro-batches of one step add up to, besides their gradients.
 *
 * @param lossSum       sum over micro-batches of mean loss x predicted tokens
 * @param predicted     predicted tokens of the whole step (the loss's denominator)
 * @param chunksVisited chunks back-propagated in the whole step
 * @param next          the data position right after the step's last micro-batch
 * @param timings       where the step's time went, in ms, by metrics key (empty where there is nothing to split)
 */
public record StepSums(double lossSum, long predicted, int chunksVisited, DataPosition next,
                       Map<String, Double> timings) {
    public StepSums {
        timings = Map.copyOf(timings);
    }

    /** Mean loss over the step's predicted tokens; NaN when it predicted none. */
    public double loss() {
        return predicted == 0 ? Double.NaN : lossSum / predicted;
    }
}
