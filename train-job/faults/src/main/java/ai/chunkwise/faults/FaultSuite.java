package ai.chunkwise.faults;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fault suite of docs/reliability.md: kill -9 trials of tokenize-job and train, hostile inputs, disk full, and
 * (optionally) the memory slope of a long run. Prints one JSON line per part and a totals line last.
 *
 * <pre>
 * FaultSuite [--work DIR] [--kills N] [--inputs-per-kind M] [--seed S] [--no-tokenize] [--no-train]
 *            [--no-overwrite-trials] [--no-disk-full] [--memory-steps STEPS]
 * </pre>
 */
public final class FaultSuite {
    private FaultSuite() {
    }

    /** What to run. */
    public record Options(Path work, int kills, int inputsPerKind, long seed, boolean tokenize, boolean train,
                          boolean overwriteTrials, boolean diskFull, int memorySteps) {
    }

    /** The figures of one run. */
    public record Result(List<Tally> kills, List<Tally> inputs, List<String> lines) {
        public int trials() {
            return kills.stream().mapToInt(t -> t.trials).sum();
        }

        public int bitExact() {
            return kills.stream().mapToInt(t -> t.bitExact).sum();
        }

        public long bytesLost() {
            return kills.stream().mapToLong(t -> t.bytesLost).sum();
        }

        public int inputCount() {
            return inputs.stream().mapToInt(t -> t.trials).sum();
        }

        public int rejectedClearly() {
            return inputs.stream().mapToInt(t -> t.rejectedClearly).sum();
        }

        public int rejectedUnclearly() {
            return inputs.stream().mapToInt(t -> t.rejectedUnclearly).sum();
        }

        public int crashed() {
            return inputs.stream().mapToInt(t -> t.crashed).sum();
        }

        public int accepted() {
            return inputs.stream().mapToInt(t -> t.accepted).sum();
        }
    }

    public static Result run(Options o, PrintStream out) throws Exception {
        Files.createDirectories(o.work());
        List<Tally> kills = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        KillTrials trials = new KillTrials(o.work(), o.seed(), System.err);
        if (o.tokenize() && o.kills() > 0) {
            Tally t = trials.tokenize(o.kills(), o.overwriteTrials());
            kills.add(t);
            emit(out, lines, t.killJson());
        }
        if (o.train() && o.kills() > 0) {
            Tally t = trials.train(o.kills());
            kills.add(t);
            emit(out, lines, t.killJson());
        }
        List<Tally> inputs = o.inputsPerKind() > 0 ? new HostileInputs(o.work(), o.seed()).run(o.inputsPerKind()) : List.of();
        inputs.forEach(t -> emit(out, lines, t.inputJson()));
        if (o.diskFull()) {
            new DiskFull(o.work(), System.err).run().forEach(l -> emit(out, lines, l));
        }
        if (o.memorySteps() > 0) {
            emit(out, lines, MemorySlope.run(o.work(), o.memorySteps()));
        }
        Result r = new Result(kills, inputs, lines);
        emit(out, lines, String.format(java.util.Locale.ROOT, "{\"part\":\"totals\",\"kill_trials\":%d,"
                        + "\"recoveries_bit_exact\":%d,\"bytes_lost\":%d,\"hostile_inputs\":%d,\"rejected_clear_error\":%d,"
                        + "\"rejected_unclear_error\":%d,\"crashed\":%d,\"accepted\":%d}", r.trials(), r.bitExact(),
                r.bytesLost(), r.inputCount(), r.rejectedClearly(), r.rejectedUnclearly(), r.crashed(), r.accepted()));
        return r;
    }

    private static void emit(PrintStream out, List<String> lines, String line) {
        lines.add(line);
        out.println(line);
        out.flush();
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of("train-job/faults/target/fault-suite");
        int kills = 20;
        int perKind = 15;
        long seed = 1;
        boolean tokenize = true;
        boolean train = true;
        boolean overwrite = true;
        boolean diskFull = true;
        int memorySteps = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--work" -> work = Path.of(args[++i]);
                case "--kills" -> kills = Integer.parseInt(args[++i]);
                case "--inputs-per-kind" -> perKind = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--no-tokenize" -> tokenize = false;
                case "--no-train" -> train = false;
                case "--no-overwrite-trials" -> overwrite = false;
                case "--no-disk-full" -> diskFull = false;
                case "--memory-steps" -> memorySteps = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("unknown option " + args[i] + " (see the class comment)");
                    System.exit(2);
                }
            }
        }
        Result r = run(new Options(work, kills, perKind, seed, tokenize, train, overwrite, diskFull, memorySteps), System.out);
        System.exit(r.bytesLost() == 0 && r.crashed() == 0 ? 0 : 1);
    }
}
