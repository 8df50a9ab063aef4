package ai.chunkwise.train.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.List;

/**
 * The plots of a training run, drawn from its metrics.jsonl entries with JFreeChart: train and held-out loss against
 * the step and against the tokens seen, tokens/s, memory, the learning rate, and for SpaCO the chunks back-propagated
 * per step against the budget. Each chart's data are exactly the logged values (nothing smoothed or resampled).
 */
public final class RunCharts {
    /** One plot: a title for the page and the chart. */
    public record Chart(String title, JFreeChart chart) {
    }

    private RunCharts() {
    }

    /**
     * @param entries       metrics.jsonl, one entry per optimizer step, in step order
     * @param spacoBudget for SpaCO runs the chunks it is set to back-propagate per optimizer step (budget x
     *                    accumulation steps: a batch shares its draw), else NaN
     */
    public static List<Chart> of(List<JsonNode> entries, double spacoBudget) {
        XYSeries trainByStep = new XYSeries("train loss");
        XYSeries evalByStep = new XYSeries("held-out loss");
        XYSeries trainByTokens = new XYSeries("train loss");
        XYSeries evalByTokens = new XYSeries("held-out loss");
        XYSeries tokensPerSecond = new XYSeries("tokens/s");
        XYSeries resident = new XYSeries("resident set (GiB)");
        XYSeries heap = new XYSeries("Java heap in use (GiB)");
        XYSeries lr = new XYSeries("learning rate");
        XYSeries chunks = new XYSeries("chunks back-propagated");
        XYSeries budget = new XYSeries("budget (expected per step)");
        double tokensSeen = 0;
        for (JsonNode e : entries) {
            double step = e.path("step").asDouble();
            tokensSeen += e.path("tokens").asDouble();
            addIfFinite(trainByStep, step, e.path("loss").asDouble(Double.NaN));
            addIfFinite(trainByTokens, tokensSeen, e.path("loss").asDouble(Double.NaN));
            if (e.has("eval_loss")) {
                addIfFinite(evalByStep, step, e.path("eval_loss").asDouble());
                addIfFinite(evalByTokens, tokensSeen, e.path("eval_loss").asDouble());
            }
            addIfFinite(tokensPerSecond, step, e.path("tokens_per_s").asDouble(Double.NaN));
            addIfFinite(resident, step, e.path("physical_bytes").asDouble(Double.NaN) / (1L << 30));
            addIfFinite(heap, step, e.path("heap_bytes").asDouble(Double.NaN) / (1L << 30));
            addIfFinite(lr, step, e.path("lr").asDouble(Double.NaN));
            if (Double.isFinite(spacoBudget)) {
                addIfFinite(chunks, step, e.path("chunks_visited").asDouble(Double.NaN));
                budget.add(step, spacoBudget);
            }
        }
        List<Chart> charts = new ArrayList<>();
        charts.add(chart("Loss against step", "optimizer step", "loss (nats per token)", trainByStep, evalByStep));
        charts.add(chart("Loss against tokens seen", "training tokens seen", "loss (nats per token)", trainByTokens, evalByTokens));
        charts.add(chart("Throughput", "optimizer step", "tokens per second", tokensPerSecond));
        charts.add(chart("Memory", "optimizer step", "GiB", resident, heap));
        charts.add(chart("Learning rate", "optimizer step", "learning rate", lr));
        if (Double.isFinite(spacoBudget)) {
            charts.add(chart("SpaCO: chunks back-propagated per step", "optimizer step", "chunks", chunks, budget));
        }
        return charts;
    }

    private static void addIfFinite(XYSeries series, double x, double y) {
        if (Double.isFinite(x) && Double.isFinite(y)) {
            series.add(x, y);
        }
    }

    private static Chart chart(String title, String xLabel, String yLabel, XYSeries... series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : series) {
            if (s.getItemCount() > 0) {
                data.addSeries(s);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL,
                true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        Color[] colors = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c)};
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, colors[i % colors.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
            // sparse series (held-out loss, a few points) get markers so single points stay visible
            renderer.setSeriesShapesVisible(i, data.getSeries(i).getItemCount() <= 50);
        }
        plot.setRenderer(renderer);
        return new Chart(title, chart);
    }
}
