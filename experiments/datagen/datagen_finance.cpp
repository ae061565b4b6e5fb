// Questions about company filings, ratios and returns, in the style of financial 10-K QA sets.
// Companies are invented (prefix + sector suffix); every number is computed, with exact integer
// rounding, from the figures the question states.
#include <fmt/format.h>

#include <cstdlib>
#include <initializer_list>

#include "experiments/datagen/datagen_common.h"

namespace ls::datagen {
namespace {

struct Sector {
  const char *suffixes, *segments, *drivers, *headwinds, *risks;
};
const Sector kSectors[] = {
    {"Software|Systems|Cloud", "cloud subscriptions|enterprise licenses|professional services",
     "higher subscription renewals|new enterprise customers|price increases on premium tiers",
     "lower license sales|foreign exchange headwinds|longer sales cycles",
     "competition from larger platforms|cybersecurity breaches|reliance on third-party hosting"},
    {"Semiconductor|Microdevices|Silicon", "data center chips|automotive chips|consumer devices",
     "strong demand for data center processors|new product launches|higher average selling prices",
     "inventory corrections at customers|weaker handset demand|export restrictions",
     "reliance on a few foundries|cyclical industry demand|export control rules"},
    {"Stores|Outfitters|Markets", "stores|e-commerce|private label brands",
     "higher same-store sales|growth in online orders|new store openings",
     "lower foot traffic|heavier promotional activity|store closures",
     "shifts in consumer spending|supply chain disruptions|competition from online retailers"},
    {"Bancorp|Financial|Trust", "consumer banking|commercial lending|wealth management",
     "higher net interest income|loan growth|fee income from wealth management",
     "higher deposit costs|lower mortgage volumes|larger credit loss provisions",
     "changes in interest rates|losses on commercial real estate loans|deposit outflows"},
    {"Energy|Petroleum|Resources", "upstream production|refining|midstream pipelines",
     "higher production volumes|stronger refining margins|new pipeline contracts",
     "lower realized oil prices|planned maintenance downtime|weaker natural gas prices",
     "commodity price volatility|environmental regulation|reserve replacement"},
    {"Power|Utilities|Electric", "regulated electric|gas distribution|renewable generation",
     "approved rate increases|customer growth in its service territory|new solar and wind capacity",
     "milder weather|higher fuel costs|delays in rate case decisions",
     "regulatory decisions on rates|severe weather events|large capital spending needs"},
    {"Logistics|Freight|Transport", "freight brokerage|truckload services|warehousing",
     "higher shipment volumes|fuel surcharge revenue|new warehouse contracts",
     "lower spot freight rates|excess trucking capacity|weaker import volumes",
     "fuel price swings|driver shortages|economic slowdowns"},
    {"Industries|Machinery|Manufacturing",
     "construction equipment|industrial automation|aftermarket parts",
     "a strong order backlog|pricing actions|growth in aftermarket services",
     "supply chain constraints|lower dealer inventories|higher steel costs",
     "raw material costs|cyclical capital spending|labor availability"},
    {"Brands|Consumer Products|Home Goods", "household products|personal care|snacks and beverages",
     "price increases|higher volumes in emerging markets|new product launches",
     "lower volumes after price increases|unfavorable currency movements|retailer destocking",
     "commodity input costs|competition from store brands|changing consumer preferences"},
    {"Communications|Telecom|Networks", "wireless service|broadband|enterprise connectivity",
     "growth in postpaid subscribers|fiber broadband additions|higher average revenue per user",
     "declining legacy voice revenue|lower equipment sales|promotional pricing",
     "spectrum costs|network outages|intense price competition"},
    {"Insurance|Assurance|Underwriters",
     "property and casualty|life and annuities|commercial lines",
     "higher premiums written|rate increases on renewals|stronger investment income",
     "catastrophe losses|higher claim costs|lower policy retention",
     "natural catastrophes|reserve adequacy|investment market declines"},
    {"Realty|Properties|Land Trust",
     "office properties|industrial warehouses|apartment communities",
     "higher rents on lease renewals|improved occupancy|acquisitions of new properties",
     "higher office vacancy|rising interest expense|property dispositions",
     "tenant defaults|rising interest rates|declines in property values"},
    {"Airlines|Air|Aviation", "domestic passenger|international passenger|cargo",
     "record passenger demand|higher average fares|expanded international routes",
     "higher jet fuel costs|flight cancellations|aircraft delivery delays",
     "fuel price volatility|labor agreements|air traffic disruptions"},
    {"Media|Entertainment|Studios", "streaming|advertising|theatrical releases",
     "streaming subscriber growth|higher advertising revenue|successful film releases",
     "a weaker advertising market|cord cutting|production delays",
     "content costs|changes in viewer habits|competition for subscribers"},
};

const Choices kPrefixes(
    "Aldren|Brightmoor|Calder|Dunmore|Evergate|Fairholt|Granlea|Halvern|Ironbridge|Juniper|"
    "Kestrel|Larkspur|Meridian|Norland|Oakhurst|Pellham|Quillon|Redfern|Silverline|Thornvale|"
    "Upland|Vantage|Westmark|Yarrow|Zephyr|Ashgrove|Bexley|Corvane|Delmont|Foxley|Glenview|"
    "Harlow|Indigo|Kingsway|Lindell|Marlowe|Newbold|Orion|Prescott|Summit");
const Choices kAccounts(
    "a savings account|a certificate of deposit|a bond fund|a money market account");

// Sets each key to its figure written with thousands separators.
void set_amounts(Vars& v, std::initializer_list<std::pair<std::string_view, int64_t>> amounts) {
  for (const auto& [key, amount] : amounts) v.set(key, with_commas(amount));
}

// A random lo%..hi% of `whole`, at 0.01% resolution so derived ratios are not round numbers.
int64_t percent_of(Picker& r, int64_t whole, int lo, int hi) {
  return whole * r.range(lo * 100, hi * 100) / 10000;
}

struct Template {
  const char *question, *answer;
  void (*numbers)(Picker&, Vars&);
};

const Template kTemplates[] = {
    {"{company} reported total revenue of ${a} million for fiscal {prev} and ${b} million for "
     "fiscal {year}. What was its year-over-year revenue growth?",
     "Revenue growth is the change in revenue divided by prior-year revenue. The change is ${b} "
     "million - ${a} million = {diff} million dollars, and {diff} / {a} = {g}%. So {company_s} "
     "revenue {moved} {g_abs}% in fiscal {year}.",
     [](Picker& r, Vars& v) {
       int64_t a = r.range(120, 25000), b = percent_of(r, a, 70, 140) + r.range(0, 9);
       set_amounts(v, {{"a", a}, {"b", b}, {"diff", b - a}});
       v.set("g", decimal((b - a) * 100, a, 1));
       v.set("g_abs", decimal(std::abs(b - a) * 100, a, 1));
       v.set("moved", b >= a ? "rose" : "fell");
     }},
    {"In fiscal {year}, {company} had revenue of ${r} million and cost of revenue of ${c} million. "
     "What was its gross margin?",
     "Gross profit is revenue minus cost of revenue: ${r} million - ${c} million = ${gp} million. "
     "Gross margin is gross profit divided by revenue: {gp} / {r} = {m}%. So {company} kept about "
     "{cents} cents of gross profit from each dollar of sales.",
     [](Picker& r, Vars& v) {
       int64_t rev = r.range(150, 30000), c = percent_of(r, rev, 20, 85);
       set_amounts(v, {{"r", rev}, {"c", c}, {"gp", rev - c}});
       v.set("m", decimal((rev - c) * 100, rev, 1));
       v.set("cents", decimal((rev - c) * 100, rev, 0));
     }},
    {"{company_s} fiscal {year} income statement shows revenue of ${r} million, cost of revenue "
     "of ${c} million, selling, general and administrative expenses of ${s} million and research "
     "and development expenses of ${d} million. What was its operating margin?",
     "Operating income is ${r} million - ${c} million - ${s} million - ${d} million = ${op} "
     "million. Operating margin is operating income divided by revenue: {op} / {r} = {m}%.",
     [](Picker& r, Vars& v) {
       int64_t rev = r.range(200, 30000), c = percent_of(r, rev, 30, 60);
       int64_t s = percent_of(r, rev, 5, 20), d = percent_of(r, rev, 2, 12);
       set_amounts(v, {{"r", rev}, {"c", c}, {"s", s}, {"d", d}, {"op", rev - c - s - d}});
       v.set("m", decimal((rev - c - s - d) * 100, rev, 1));
     }},
    {"{company} earned net income of ${ni} million in fiscal {year} with {sh} million diluted "
     "shares outstanding. If its stock trades at {price}, what is its price-to-earnings ratio?",
     "Earnings per share are ${ni} million / {sh} million shares = {eps}. The P/E ratio is the "
     "share price divided by earnings per share: {price} / {eps} = {pe}. Investors are paying "
     "about {pe} times earnings.",
     [](Picker& r, Vars& v) {
       int64_t sh = r.range(20, 900), ni = percent_of(r, sh, 20, 900) + r.range(1, 9);
       int64_t eps = (ni * 200 + sh) / (2 * sh), price = eps * r.range(6, 45) + r.range(0, 99);
       set_amounts(v, {{"ni", ni}, {"sh", sh}});
       v.set("eps", dollars(eps)), v.set("price", dollars(price));
       v.set("pe", decimal(price, eps, 1));
     }},
    {"At the end of fiscal {year}, {company} reported short-term debt of ${st} million, long-term "
     "debt of ${lt} million and total shareholders' equity of ${eq} million. What was its "
     "debt-to-equity ratio?",
     "Total debt is ${st} million + ${lt} million = ${td} million. Debt-to-equity is total debt "
     "divided by equity: {td} / {eq} = {de}. That means {company} is financed more by {more}.",
     [](Picker& r, Vars& v) {
       int64_t st = r.range(5, 900), lt = r.range(50, 9000), eq = percent_of(r, st + lt, 25, 400);
       set_amounts(v, {{"st", st}, {"lt", lt}, {"td", st + lt}, {"eq", eq}});
       v.set("de", decimal(st + lt, eq, 2));
       v.set("more", st + lt > eq ? "debt than by equity" : "equity than by debt");
     }},
    {"An investor puts {p} into {account} that earns {rate}% a year, compounded annually. What is "
     "the balance after {n} years?",
     "Each year the balance is multiplied by {factor}.{steps} The balance after {n} years is "
     "{final}, a gain of {gain}.",
     [](Picker& r, Vars& v) {
       int64_t p = 100 * r.range(10, 500) * 100, rate10 = 5 * r.range(2, 18), cents = p;
       int n = r.range(2, 5);
       std::string steps;
       for (int year = 1; year <= n; ++year) {  // round to cents each year, as banks do
         int64_t next = (cents * (1000 + rate10) * 2 + 1000) / 2000;
         steps += fmt::format(" After year {}: {} * {} = {}.", year, dollars(cents),
                              decimal(1000 + rate10, 1000, 3), dollars(next));
         cents = next;
       }
       v.set("p", dollars(p)), v.set("account", kAccounts.pick(r)), v.set("n", std::to_string(n));
       v.set("rate", decimal(rate10, 10, 1)), v.set("factor", decimal(1000 + rate10, 1000, 3));
       v.set("steps", steps), v.set("final", dollars(cents)), v.set("gain", dollars(cents - p));
     }},
    {"{company} pays a quarterly dividend of {q} per share, and its stock price is {p}. What is "
     "its annual dividend yield?",
     "The annual dividend is 4 * {q} = {ann}. Dividend yield is the annual dividend divided by "
     "the share price: {ann} / {p} = {y}%.",
     [](Picker& r, Vars& v) {
       int64_t q = r.range(5, 150), p = q * 4 * r.range(12, 80) + r.range(0, 99);
       v.set("q", dollars(q)), v.set("ann", dollars(4 * q)), v.set("p", dollars(p));
       v.set("y", decimal(4 * q * 100, p, 2));
     }},
    {"In fiscal {year}, {company} paid ${div} million in dividends and reported net income of "
     "${ni} million. What was its dividend payout ratio?",
     "The payout ratio is dividends divided by net income: {div} / {ni} = {pr}%. So {company} "
     "returned {pr}% of its earnings to shareholders and retained {kept}%.",
     [](Picker& r, Vars& v) {
       int64_t ni = r.range(40, 8000), div = percent_of(r, ni, 10, 90);
       set_amounts(v, {{"ni", ni}, {"div", div}});
       v.set("pr", decimal(div * 100, ni, 1)), v.set("kept", decimal((ni - div) * 100, ni, 1));
     }},
    {"{company_s} balance sheet at the end of fiscal {year} lists current assets of ${ca} million "
     "and current liabilities of ${cl} million. What is its current ratio?",
     "The current ratio is current assets divided by current liabilities: {ca} / {cl} = {cr}. A "
     "ratio {side} 1 suggests that {company} {liquidity} its short-term obligations.",
     [](Picker& r, Vars& v) {
       int64_t cl = r.range(50, 6000), ca = percent_of(r, cl, 60, 300);
       set_amounts(v, {{"ca", ca}, {"cl", cl}});
       v.set("cr", decimal(ca, cl, 2));
       v.set("side", ca >= cl ? "at or above" : "below");
       v.set("liquidity", ca >= cl ? "can cover" : "may struggle to cover");
     }},
    {"{company} reported net income of ${ni} million on revenue of ${r} million in fiscal {year}. "
     "What was its net profit margin?",
     "Net profit margin is net income divided by revenue: {ni} / {r} = {m}%. For every dollar of "
     "sales, {company} kept about {cents} cents as profit.",
     [](Picker& r, Vars& v) {
       int64_t rev = r.range(100, 40000), ni = percent_of(r, rev, 2, 35) + 1;
       set_amounts(v, {{"ni", ni}, {"r", rev}});
       v.set("m", decimal(ni * 100, rev, 1));
       v.set("cents", decimal(ni * 100, rev, 0));
     }},
    {"In its fiscal {year} 10-K, {company} reported ${s} million of revenue from its {segment} "
     "segment out of total revenue of ${r} million. What share of revenue came from {segment}?",
     "The {segment} segment's share is {s} / {r} = {p}% of total revenue. The remaining {rest}% "
     "came from {company_s} other segments.",
     [](Picker& r, Vars& v) {
       int64_t rev = r.range(300, 40000), s = percent_of(r, rev, 10, 70);
       set_amounts(v, {{"s", s}, {"r", rev}});
       v.set("p", decimal(s * 100, rev, 1));
       v.set("rest", decimal((rev - s) * 100, rev, 1));
     }},
    {"According to the 10-K, what drove {company_s} revenue in {year}?",
     "In its fiscal {year} Form 10-K, {company} reported revenue of ${b} million, up {g}% from "
     "${a} million. Management attributed the increase mainly to {driver} in the {segment} "
     "segment and to {driver2}, partly offset by {headwind}.",
     [](Picker& r, Vars& v) {
       int64_t a = r.range(120, 25000), b = percent_of(r, a, 102, 140);
       set_amounts(v, {{"a", a}, {"b", b}});
       v.set("g", decimal((b - a) * 100, a, 1));
     }},
    {"What risk factors does {company} highlight in its fiscal {year} 10-K?",
     "The risk factors section of {company_s} fiscal {year} 10-K highlights {risks}. The company "
     "also warns that {headwind} could weigh on results in its {segment} segment.",
     [](Picker&, Vars&) {}},
    {"{company} reported operating income of ${op} million and interest expense of ${ie} million "
     "in fiscal {year}. What was its interest coverage ratio?",
     "Interest coverage is operating income divided by interest expense: {op} / {ie} = {ic} "
     "times. {comment}",
     [](Picker& r, Vars& v) {
       int64_t ie = r.range(5, 800), op = percent_of(r, ie, 80, 1500);
       set_amounts(v, {{"op", op}, {"ie", ie}});
       v.set("ic", decimal(op, ie, 1));
       v.set("comment", op >= 3 * ie ? "That leaves a comfortable cushion for paying lenders."
                                     : "That is a thin cushion, so lenders may watch closely.");
     }},
    {"In fiscal {year}, {company} generated operating cash flow of ${ocf} million and spent "
     "${capex} million on capital expenditures. What was its free cash flow margin on revenue of "
     "${r} million?",
     "Free cash flow is operating cash flow minus capital expenditures: ${ocf} million - "
     "${capex} million = ${fcf} million. The free cash flow margin is {fcf} / {r} = {m}%.",
     [](Picker& r, Vars& v) {
       int64_t rev = r.range(200, 30000), ocf = percent_of(r, rev, 8, 35);
       int64_t capex = percent_of(r, ocf, 10, 80);
       set_amounts(v, {{"r", rev}, {"ocf", ocf}, {"capex", capex}, {"fcf", ocf - capex}});
       v.set("m", decimal((ocf - capex) * 100, rev, 1));
     }},
};

// The company, year and sector facts every template may mention.
void set_company(Picker& r, Vars& v) {
  int prefix = r.below(static_cast<int>(kPrefixes.size()));
  const Sector& sector = r.pick(kSectors);
  Choices suffixes(sector.suffixes), segments(sector.segments), drivers(sector.drivers);
  // Sectors have disjoint suffixes and the prefix picks one, so a name names a single sector.
  std::string company = kPrefixes[prefix] + " " + suffixes[prefix % suffixes.size()];
  v.set("company", company), v.set("company_s", company + (company.back() == 's' ? "'" : "'s"));
  int year = r.range(2019, 2024);
  v.set("year", std::to_string(year)), v.set("prev", std::to_string(year - 1));
  v.set("segment", segments.pick(r));
  int first = r.below(static_cast<int>(drivers.size()));
  v.set("driver", drivers[first]);
  v.set("driver2",
        drivers[(first + r.range(1, static_cast<int>(drivers.size()) - 1)) % drivers.size()]);
  v.set("headwind", Choices(sector.headwinds).pick(r));
  v.set("risks", join_list(Choices(sector.risks).all()));
}

}  // namespace

QAExample make_finance_example(Picker& rng) {
  const Template& t = rng.pick(kTemplates);
  Vars v;
  set_company(rng, v);
  t.numbers(rng, v);
  return {fill(t.question, v), fill(t.answer, v)};
}

}  // namespace ls::datagen
