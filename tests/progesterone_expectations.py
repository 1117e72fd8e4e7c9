"""What the Progesterone and Bone Health deck must cover.

Plain data for the coverage test. It mirrors cards/progesterone-bone/*.yaml
(ids, term texts, table cells, mechanism steps) and must change with it.
"""

# Card id -> term text, for the 21 glossary entries that carry a definition.
GLOSSARY_TERM_IDS = {
    "term-skeletal-integrity": "Skeletal integrity",
    "term-bone-remodeling": "Bone remodeling",
    "term-osteoclast-activity": "Osteoclast activity",
    "term-endocrine-system": "Endocrine system",
    "term-bone-turnover": "Bone turnover",
    "term-bone-formation": "Bone formation",
    "term-bone-resorption": "Bone resorption",
    "term-bone-density": "Bone density",
    "term-progesterone-deficiency": "Progesterone deficiency",
    "term-hormonal-imbalance": "Hormonal imbalance",
    "term-progesterone-levels": "Progesterone levels",
    "term-bone-health": "Bone health",
    "term-bone-loss": "Bone loss",
    "term-bone-mineral-density": "Bone mineral density",
    "term-bioidentical-progesterone": "Bioidentical progesterone",
    "term-hormonal-optimization": "Hormonal optimization",
    "term-metabolic-function": "Metabolic function",
    "term-osteoblast-activity": "Osteoblast activity",
    "term-hpg-axis": "HPG axis",
    "term-hpa-axis": "HPA axis",
    "term-hpt-axis": "HPT axis",
}

# (table card id, first cell of the row, column header) for every cell
# outside the first column: 12 in the protocol table, 10 in the systemic one.
# Texts as rendered (the Row and Column fields). Two were reworded in v1.1.0 and
# keep their old keys through an explicit id: see TABLE_ROW_KEYS and
# TABLE_COLUMN_KEYS.
TABLE_CELLS = [
    ("table-protocol-components", "Progesterone", "Primary Purpose"),
    ("table-protocol-components", "Progesterone", "Administration"),
    ("table-protocol-components", "Progesterone", "Impact on Bone Health"),
    ("table-protocol-components", "Testosterone Cypionate (Low-Dose)", "Primary Purpose"),
    ("table-protocol-components", "Testosterone Cypionate (Low-Dose)", "Administration"),
    ("table-protocol-components", "Testosterone Cypionate (Low-Dose)", "Impact on Bone Health"),
    ("table-protocol-components", "Estradiol (if indicated)", "Primary Purpose"),
    ("table-protocol-components", "Estradiol (if indicated)", "Administration"),
    ("table-protocol-components", "Estradiol (if indicated)", "Impact on Bone Health"),
    ("table-protocol-components", "Anastrozole (alongside testosterone pellets)", "Primary Purpose"),
    ("table-protocol-components", "Anastrozole (alongside testosterone pellets)", "Administration"),
    ("table-protocol-components", "Anastrozole (alongside testosterone pellets)", "Impact on Bone Health"),
    ("table-systemic-factors", "HPG Axis Hormones (Estrogen, Testosterone)", "Mechanism of Influence on Bone"),
    ("table-systemic-factors", "HPG Axis Hormones (Estrogen, Testosterone)", "Claimed link to low progesterone"),
    ("table-systemic-factors", "HPA Axis Hormones (Cortisol)", "Mechanism of Influence on Bone"),
    ("table-systemic-factors", "HPA Axis Hormones (Cortisol)", "Claimed link to low progesterone"),
    ("table-systemic-factors", "HPT Axis Hormones (Thyroid)", "Mechanism of Influence on Bone"),
    ("table-systemic-factors", "HPT Axis Hormones (Thyroid)", "Claimed link to low progesterone"),
    ("table-systemic-factors", "Inflammation (Cytokines)", "Mechanism of Influence on Bone"),
    ("table-systemic-factors", "Inflammation (Cytokines)", "Claimed link to low progesterone"),
    ("table-systemic-factors", "Metabolic Health (Insulin Sensitivity)", "Mechanism of Influence on Bone"),
    ("table-systemic-factors", "Metabolic Health (Insulin Sensitivity)", "Claimed link to low progesterone"),
]

# Where a first cell or header no longer slugifies to its key (the note key is
# "<table id>/<row key>/<column key>"), the key it keeps; every other row and
# column key is the slug of its text.
TABLE_ROW_KEYS = {
    ("table-protocol-components", "Anastrozole (alongside testosterone pellets)"): "anastrozole-pellet-therapy",
}
TABLE_COLUMN_KEYS = {
    ("table-systemic-factors", "Claimed link to low progesterone"): "relevance-to-progesterone-deficiency",
}

# Mechanism card id -> its steps, exactly as written in the YAML (plain text, so
# also as rendered), in order. mech-estrogen-dominance keeps only the article's
# own three-step claim (review F2).
MECHANISMS = {
    "mech-bone-remodeling-balance": [
        "Osteoclasts first resorb a small packet of old bone",
        "Osteoblasts then refill the cavity with new bone matrix",
        "Formation matching resorption keeps the skeleton in equilibrium",
        "Bone strength and density are maintained through life",
    ],
    "mech-pr-complex-transcription": [
        "Progesterone binds progesterone receptors in bone cells",
        "The hormone-receptor complex acts as a transcription factor",
        "It regulates genes for bone formation and resorption",
        "In osteoblasts, collagen synthesis and mineralization genes can be upregulated",
    ],
    "mech-deficiency-bone-loss": [
        "Progesterone levels decline",
        "Stimulation of osteoblasts may weaken and restraint of osteoclasts diminish",
        "Bone resorption outpaces bone formation",
        "A deficit in skeletal mass builds over time",
        "Bone density can gradually fall and fracture risk may rise",
    ],
    "mech-estrogen-dominance": [
        "Estrogen is high relative to progesterone",
        "Progesterone is too low to balance the bone remodeling equation",
        "Bone loss can still occur",
    ],
    "mech-menopausal-decline": [
        "Progesterone declines in perimenopause and post-menopause",
        "Its protective effects on bone diminish",
        "The skeleton becomes more vulnerable to aging and metabolic stressors",
        "The decline can also accelerate bone turnover, favoring resorption",
    ],
    "mech-gh-peptides": [
        "A growth hormone secretagogue peptide acts on the pituitary",
        "The pituitary releases more of the body's own growth hormone",
        "Growth hormone, largely via IGF-1, influences bone density and tissue repair",
        "Anabolic processes, including skeletal maintenance, may be enhanced",
    ],
    "mech-pr-signalling": [
        "Progesterone binds PR-A or PR-B",
        "The receptor undergoes a conformational change",
        "The receptor dimerizes",
        "The dimer acts in the nucleus, where PR mostly resides",
        "It binds progesterone response elements (PREs) in target-gene promoters",
        "Target-gene transcription is activated or repressed",
        "Alkaline phosphatase and osteocalcin expression is upregulated",
    ],
    "mech-pr-a-vs-pr-b": [
        "PR-B often acts as a transcriptional activator",
        "PR-A can act as a dominant repressor of PR-B-mediated transcription",
        "So the PR-A/PR-B balance in a bone cell can dictate its response",
        "Differing isoform ratios may explain contradictory study findings",
    ],
    "mech-hpg-ripple": [
        "The HPG axis becomes dysregulated",
        "Progesterone deficiency often follows",
        "Effects ripple across the interconnected HPA and HPT axes",
        "Bone is influenced indirectly",
    ],
    "mech-stress-cortisol": [
        "Chronic stress activates the HPA axis",
        "Cortisol levels rise",
        "Cortisol inhibits osteoblast activity",
        "Cortisol promotes osteoclast differentiation",
        "Net bone mass is reduced",
    ],
    "mech-low-progesterone-stress": [
        "Progesterone levels are low",
        "Its calming, anti-inflammatory buffering of stress hormones may be lost",
        "Hormonal imbalance and chronic stress converge",
        "Skeletal demineralization accelerates",
    ],
    "mech-inflammatory-cytokines": [
        "Chronic low-grade inflammation, often associated with metabolic dysregulation",
        "Pro-inflammatory cytokines (such as IL-6, TNF-alpha) are upregulated",
        "They stimulate osteoclast differentiation and activity",
        "Bone resorption increases",
    ],
    "mech-insulin-resistance": [
        "Insulin resistance and dysglycemia develop",
        "Insulin levels run high",
        "The balance of growth factors and cytokines regulating bone cells shifts",
        "Bone loss may be favored",
    ],
}
