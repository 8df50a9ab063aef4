package ai.chunkwise.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Counters of one part of the suite, printed as one JSON line. */
final class Tally {
    final String name;
    int trials;
    int bitExact;
    long bytesLost;
    int rejectedClearly;
    int rejectedUnclearly;
    int crashed;
    int accepted;
    int recoveryFailed;
    /** tokenize-job: a _SUCCESS that was empty or unparsable after a kill, or did not name the version after recovery. */
    int markersWrong;
    final List<String> notes = new ArrayList<>();

    Tally(String name) {
        this.name = name;
    }

    void note(String s) {
        if (notes.size() < 40) {
            notes.add(s);
        }
    }

    String killJson() {
        return String.format(Locale.ROOT, "{\"part\":\"%s\",\"trials\":%d,\"recoveries_bit_exact\":%d,"
                + "\"recoveries_failed\":%d,\"bytes_lost\":%d,\"success_markers_wrong\":%d,\"notes\":%s}", name, trials,
                bitExact, recoveryFailed, bytesLost, markersWrong, json(notes));
    }

    String inputJson() {
        return String.format(Locale.ROOT, "{\"part\":\"%s\",\"inputs\":%d,\"rejected_clear_error\":%d,"
                        + "\"rejected_unclear_error\":%d,\"crashed\":%d,\"accepted\":%d,\"notes\":%s}", name, trials,
                rejectedClearly, rejectedUnclearly, crashed, accepted, json(notes));
    }

    static String json(List<String> list) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            b.append(i == 0 ? "" : ",").append('"').append(list.get(i).replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace("\n", "\\n")).append('"');
        }
        return b.append(']').toString();
    }
}
