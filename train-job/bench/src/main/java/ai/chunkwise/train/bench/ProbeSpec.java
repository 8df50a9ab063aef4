package ai.chunkwise.train.bench;

import java.util.List;

/** What one {@link StepProbe} measures; travels to the child JVM as its argument list. */
record ProbeSpec(String method, int tokens, int chunk, double budget, String sampling, int warmups, int repeats) {

    static ProbeSpec of(String method, int tokens, int chunk, int warmups, int repeats) {
        return new ProbeSpec(method, tokens, chunk, 0, "none", warmups, repeats);
    }

    static ProbeSpec spaco(int tokens, int chunk, double budget, String sampling, int warmups, int repeats) {
        return new ProbeSpec("spaco", tokens, chunk, budget, sampling, warmups, repeats);
    }

    int chunks() {
        return (tokens + chunk - 1) / chunk;
    }

    /** A stable label such as "spaco(t=2,bernoulli)". */
    String label() {
        if (!method.equals("spaco")) {
            return method;
        }
        String t = budget == Math.rint(budget) ? String.valueOf((long) budget) : String.valueOf(budget);
        return "spaco(t=" + t + "," + sampling + ")";
    }

    List<String> toArgs() {
        return List.of(method, String.valueOf(tokens), String.valueOf(chunk), String.valueOf(budget), sampling,
                String.valueOf(warmups), String.valueOf(repeats));
    }

    static ProbeSpec fromArgs(String[] a) {
        if (a.length != 7) {
            throw new IllegalArgumentException("StepProbe expects 7 arguments "
                    + "(method tokens chunk budget sampling warmups repeats), got " + a.length);
        }
        return new ProbeSpec(a[0], Integer.parseInt(a[1]), Integer.parseInt(a[2]), Double.parseDouble(a[3]), a[4],
                Integer.parseInt(a[5]), Integer.parseInt(a[6]));
    }
}
