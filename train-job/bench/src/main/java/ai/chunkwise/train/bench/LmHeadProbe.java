package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.LmHeadLoss;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A frozen LM head's backward (loss + dx, {@link LmHeadLoss}) by the one vocabulary sweep the trainer runs against
 * the two sweeps it ran before (issue #19), side by side in one JVM: fp32 compute, a random bf16 head widened per
 * block, a 256-token chunk, at SmolLM2-135M's width (hidden 576, vocab 49,152) and Llama-3.2-1B's (hidden 2048,
 * vocab 128,256). After a warm-up of each, the repeats alternate the two (which one goes first alternates too), so
 * a change in the machine's load touches both alike; medians of wall seconds. One JSON line per width, with the
 * load average before and after and the largest difference between the two paths' dx.
 *
 * <p>Arguments: [repeats, default 5] [tokens, default 256]. Run with one OpenMP thread:
 * {@code OMP_NUM_THREADS=1 java -Xmx3g -cp train-job/bench/target/bench.jar ai.chunkwise.train.bench.LmHeadProbe}.
 */
public final class LmHeadProbe {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LmHeadProbe() {
    }

    public static void main(String[] args) {
        ai.chunkwise.train.backend.CpuBuild.select();
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        measure("smollm2-135m", tokens, 576, 49_152, repeats);
        measure("llama-3.2-1b", tokens, 2048, 128_256, repeats);
    }

    private static void measure(String width, int n, int hidden, int vocab, int repeats) {
        String loadBefore = BenchCommand.loadAverage();
        Nd4j.getRandom().setSeed(19);
        INDArray head = Nd4j.randn(DataType.FLOAT, vocab, hidden).muli(0.02).castTo(DataType.BFLOAT16);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, hidden);
        SplittableRandom random = new SplittableRandom(19);
        int[] labels = new int[n];
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(vocab);
            weights[i] = i == 0 ? 0 : 1.0 / (n - 1);        // the chunk's first position unlabelled, as after a restart
        }
        LmHeadLoss oneSweep = LmHeadLoss.forBench(DataType.FLOAT);
        LmHeadLoss twoSweeps = LmHeadLoss.forBench(DataType.FLOAT);
        INDArray dxOne = oneSweep.frozenHeadInputGrad(x, head, labels, weights, true);        // warm-ups
        INDArray dxTwo = twoSweeps.frozenHeadInputGrad(x, head, labels, weights, false);
        double dxMaxDiff = dxOne.sub(dxTwo).amaxNumber().doubleValue();
        double dxMaxAbs = dxTwo.amaxNumber().doubleValue();
        double[] one = new double[repeats];
        double[] two = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            if (r % 2 == 0) {
                one[r] = time(() -> oneSweep.frozenHeadInputGrad(x, head, labels, weights, true));
                two[r] = time(() -> twoSweeps.frozenHeadInputGrad(x, head, labels, weights, false));
            } else {
                two[r] = time(() -> twoSweeps.frozenHeadInputGrad(x, head, labels, weights, false));
                one[r] = time(() -> oneSweep.frozenHeadInputGrad(x, head, labels, weights, true));
            }
        }
        ObjectNode line = JSON.createObjectNode();
        line.put("probe", "lm-head-frozen-backward");
        line.put("width", width);
        line.put("tokens", n);
        line.put("hidden", hidden);
        line.put("vocab", vocab);
        line.put("compute", "fp32");
        line.put("head", "bf16");
        line.put("repeats", repeats);
        line.put("one_sweep_seconds_p50", median(one));
        line.put("two_sweeps_seconds_p50", median(two));
        line.put("two_over_one", median(two) / median(one));
        line.putPOJO("one_sweep_seconds", one);
        line.putPOJO("two_sweeps_seconds", two);
        line.put("dx_max_abs_difference", dxMaxDiff);
        line.put("dx_max_abs", dxMaxAbs);
        String omp = System.getenv("OMP_NUM_THREADS");
        line.put("omp_num_threads", omp == null ? "unset" : omp);
        line.put("load_average_before", loadBefore);
        line.put("load_average_after", BenchCommand.loadAverage());
        line.put("time", java.time.Instant.now().toString());
        System.out.println(line);
        System.out.flush();
    }

    private static double time(Runnable step) {
        long t0 = System.nanoTime();
        step.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
