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
# TABLE_COLUMN_KEYS. Since v1.2.0 the cells holding the article's unsupported
# claims are shown but not asked (TABLE_NOT_ASKED).
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

# The cells of TABLE_CELLS that are shown in their table but make no card.
TABLE_NOT_ASKED = {
    ("table-protocol-components", "Progesterone", "Primary Purpose"),
    ("table-protocol-components", "Progesterone", "Impact on Bone Health"),
    ("table-protocol-components", "Testosterone Cypionate (Low-Dose)", "Administration"),
    ("table-protocol-components", "Testosterone Cypionate (Low-Dose)", "Impact on Bone Health"),
    ("table-systemic-factors", "Metabolic Health (Insulin Sensitivity)", "Mechanism of Influence on Bone"),
    *((t, r, c) for t, r, c in TABLE_CELLS if c == "Claimed link to low progesterone"),
}

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
# also as rendered), in order. Since v1.2.0 only chains whose every step is
# established are mechanisms; the article's claimed chains are in extras.
MECHANISMS = {
    "mech-bone-remodeling-balance": [
        "Osteoclasts first resorb a small packet of old bone",
        "Osteoblasts then refill the cavity with new bone matrix",
        "Formation matching resorption keeps the skeleton in equilibrium",
        "After peak bone mass (about age 30), each cycle leaves a small deficit and bone is slowly lost",
    ],
    "mech-pr-complex-transcription": [
        "Progesterone binds progesterone receptors in bone cells",
        "The hormone-receptor complex acts as a transcription factor",
        "In cell studies it regulates genes of bone formation and resorption",
        "In cultured osteoblasts, collagen and mineralization genes can be upregulated",
    ],
    "mech-estrogen-deficiency-bone-loss": [
        "Estrogen falls at menopause",
        "Osteoclasts form more readily and live longer (more RANKL)",
        "Resorption outpaces formation and turnover speeds up",
        "Bone is lost fastest in the first years after menopause",
        "Bone mineral density falls and fracture risk rises",
    ],
    "mech-pr-signalling": [
        "Progesterone binds PR-A or PR-B",
        "The receptor undergoes a conformational change",
        "The receptor dimerizes",
        "The dimer acts in the nucleus, where PR mostly resides",
        "It binds progesterone response elements (PREs) in target-gene promoters",
        "Target-gene transcription is activated or repressed",
        "In cultured osteoblasts, alkaline phosphatase and osteocalcin can be upregulated",
    ],
    "mech-pr-a-vs-pr-b": [
        "PR-B often acts as a transcriptional activator",
        "PR-A can act as a dominant repressor of PR-B-mediated transcription",
        "So the PR-A/PR-B balance in a cell can dictate its response",
    ],
    "mech-stress-cortisol": [
        "Glucocorticoids are in excess (Cushing's syndrome, glucocorticoid therapy)",
        "Glucocorticoids inhibit osteoblast formation and shorten osteoblast and osteocyte life",
        "Bone formation falls, the dominant effect",
        "They also promote osteoclast activity, early and transiently",
        "Net bone mass is reduced and fractures occur even at near-normal BMD",
    ],
    "mech-inflammatory-cytokines": [
        "Chronic low-grade inflammation, often associated with metabolic dysregulation",
        "Pro-inflammatory cytokines (such as IL-6, TNF-alpha) are upregulated",
        "They stimulate osteoclast differentiation and activity",
        "Bone resorption increases",
    ],
    "mech-diabetes-fracture-risk": [
        "In type 2 diabetes, BMD is normal or even higher",
        "Advanced glycation end-products (AGEs) accumulate in bone collagen",
        "Bone material quality falls",
        "Neuropathy, poor vision and hypoglycaemia make falls more likely",
        "Fracture risk is higher than BMD predicts",
    ],
}
