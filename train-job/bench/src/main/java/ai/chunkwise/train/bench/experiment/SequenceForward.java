package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.model.ChunkForward;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Evaluation forward passes: each row of {@code model.batchSize()} sequences as ONE chunk with no past (the same
 * function chunk-wise inference computes; the engine tests check that equality), every position a document of
 * its own sequence, next-token targets where {@code targets} says so.
 */
final class SequenceForward {
    private SequenceForward() {
    }

    /** Mean next-token loss over the targets (target j is token j, predicted at j-1); logits when asked. */
    static ChunkForward run(LlamaModel model, long[][] tokens, boolean[][] targets, boolean withLogits) {
        int rows = tokens.length;
        int s = tokens[0].length;
        long n = 0;
        for (int b = 0; b < rows; b++) {
            for (int j = 1; j < s; j++) {
                n += targets == null || targets[b][j] ? 1 : 0;
            }
        }
        int[][] positions = new int[rows][s];
        int[][] labels = new int[rows][s];
        double[][] weights = new double[rows][s];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < s; j++) {
                positions[b][j] = j;
                boolean counted = j + 1 < s && (targets == null || targets[b][j + 1]);
                labels[b][j] = j + 1 < s ? (int) tokens[b][j + 1] : 0;
                weights[b][j] = counted ? 1.0 / n : 0.0;
            }
        }
        ChunkInput in = new ChunkInput(tokens, positions, null, labels, weights);
        return model.forward(in, KeyValues.empty(model.config(), rows, model.dataType()), withLogits);
    }

    /** Per row and answer position i: [0] whether argmax is the target, [1] the target's cross-entropy. */
    static double[][][] answerScores(LlamaModel model, long[][] tokens, boolean[][] targets, int answerStart) {
        ChunkForward out = run(model, tokens, targets, true);
        INDArray logits = out.logits();
        int rows = tokens.length;
        int s = tokens[0].length;
        int answers = s - answerStart;
        int vocab = (int) logits.size(2);
        double[][][] scores = new double[rows][answers][2];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < answers; i++) {
                int target = answerStart + i;
                double[] row = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(target - 1),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).toDoubleVector();
                int best = 0;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    if (row[v] > max) {
                        max = row[v];
                        best = v;
                    }
                }
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(row[v] - max);
                }
                int label = (int) tokens[b][target];
                scores[b][i][0] = best == label ? 1 : 0;
                scores[b][i][1] = max + Math.log(sum) - row[label];
            }
        }
        return scores;
    }
}
