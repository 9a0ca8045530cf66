/*
 * market_risk.c - positions, reservations, funding and liquidation.
 *
 * Perpetual (isolated margin): opening qty at the mark moves
 * notional / leverage (rounded up) from the company's wallet to CLEARING as
 * the position's margin.  Closing realises PnL against the average entry
 * (exact: the position keeps sum(qty * price) in 128 bits) and pays back the
 * closed share of the margin plus the PnL; a loss larger than that share
 * eats the remaining margin, and only a bankrupt remainder is covered by the
 * insurance fund.  A company's wallet is never debited for a loss, so it
 * can never go negative.  The house accounts (makers, insurance fund) post
 * no margin; their PnL moves between them and CLEARING when realised.
 *
 * Funding: every tick samples the premium index of the perp book against
 * the fair value, Binance style: (max(0, best bid - fair) - max(0, fair -
 * best ask)) / fair.  At each funding boundary (every 8 game hours) the
 * rate is avg(premium) + clamp(interest - avg(premium), +-0.05 %), capped;
 * longs pay shorts when it is positive.  Companies pay from and receive
 * into their isolated margin; payers round up, receivers down, dust to fees.
 *
 * Liquidation: when equity (margin + unrealised PnL at the mark) falls
 * below maintenance (|qty| * mark * mmr), the insurance fund takes the
 * position over at the bankruptcy price (where equity is zero) and passes
 * it straight on to the makers at the mark; the fund thus receives the
 * leftover equity, or pays the gap when the price jumped past bankruptcy.
 * A margin call alert is sent once when equity first drops under
 * maintenance * call_ppm, and re-armed when it recovers.
 *
 * Options: writers post full collateral (calls: the BTC; puts: strike *
 * qty in USD) into CLEARING when a sale opens or extends a short, and get
 * it back pro rata when they buy back.
 */
#include "market_int.h"

#include <stdlib.h>

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

static enum market_currency collateral_currency(const struct market_instr *ins)
{
    return ins->call ? MARKET_BTC : MARKET_USD;
}

static int64_t close_part(struct market_tick *x, struct market_pos *p,
                          const struct market_instr *ins, int64_t c, int64_t price)
{
    int64_t q = abs64(p->qty), s = p->qty > 0 ? 1 : -1, pnl, rm, payout, back;
    i128 rc = c == q ? p->cost : p->cost * c / q;
    bool house = market_is_house(p->account);

    p->cost -= rc;
    p->qty -= s * c;
    if (ins->kind == MARKET_OPTION) {
        if (s < 0 && !house) {
            back = c == q ? p->collateral : market_muldiv(p->collateral, c, q);
            p->collateral -= back;
            market_xfer(x, MARKET_ACCT_CLEARING, p->account, collateral_currency(ins), back,
                        MARKET_X_COLLATERAL, ins->id);
        }
        return 0;
    }
    pnl = market_floor_div((i128)s * c * price - rc, MARKET_SATS);
    if (house) {
        if (pnl > 0)
            market_xfer(x, MARKET_ACCT_CLEARING, p->account, MARKET_USD, pnl, MARKET_X_PNL,
                        ins->id);
        else
            market_xfer(x, p->account, MARKET_ACCT_CLEARING, MARKET_USD, -pnl, MARKET_X_PNL,
                        ins->id);
        return pnl;
    }
    rm = c == q ? p->margin : market_floor_div((i128)p->margin * c, q);
    p->margin -= rm;
    payout = rm + pnl;
    if (payout >= 0) {
        market_xfer(x, MARKET_ACCT_CLEARING, p->account, MARKET_USD, payout, MARKET_X_MARGIN,
                    ins->id);
    } else {
        p->margin += payout;
        if (p->margin < 0) {
            market_xfer(x, MARKET_ACCT_INSURANCE, MARKET_ACCT_CLEARING, MARKET_USD, -p->margin,
                        MARKET_X_INSURANCE, ins->id);
            p->margin = 0;
        }
    }
    return pnl;
}

static void open_part(struct market_tick *x, struct market_pos *p, const struct market_instr *ins,
                      int64_t sq, int64_t price, int32_t leverage)
{
    int64_t m;

    p->cost += (i128)sq * price;
    p->qty += sq;
    if (market_is_house(p->account))
        return;
    if (ins->kind == MARKET_PERP) {
        m = market_muldiv_up(market_notional_up(abs64(sq), x->env->fair), 1,
                             leverage > 0 ? leverage : 1);
        market_xfer(x, p->account, MARKET_ACCT_CLEARING, MARKET_USD, m, MARKET_X_MARGIN, ins->id);
        p->margin += m;
        p->leverage = leverage;
    } else if (ins->kind == MARKET_OPTION && sq < 0) {
        m = ins->call ? -sq : market_notional_up(-sq, ins->strike);
        market_xfer(x, p->account, MARKET_ACCT_CLEARING, collateral_currency(ins), m,
                    MARKET_X_COLLATERAL, ins->id);
        p->collateral += m;
    }
}

int64_t market_pos_fill(struct market_tick *x, int64_t account, const struct market_instr *ins,
                        enum market_side side, int64_t qty, int64_t price, int32_t leverage,
                        int64_t ref)
{
    struct market_pos *p = market_pos_at(x, account, ins->id);
    int64_t sgn = side == MARKET_BUY ? 1 : -1, pnl = 0, c;

    BT_UNUSED(ref);
    if (p->qty != 0 && (p->qty > 0) != (sgn > 0)) {
        c = qty < abs64(p->qty) ? qty : abs64(p->qty);
        pnl = close_part(x, p, ins, c, price);
        qty -= c;
    }
    if (qty > 0)
        open_part(x, p, ins, sgn * qty, price, leverage);
    return pnl;
}

void market_reserve(struct market_tick *x, bool cancel_uncovered)
{
    struct market_state *st = x->st;

    for (int i = 0; i < st->n_acc; i++)
        st->acc[i].res_usd = st->acc[i].res_btc = 0;
    for (int i = 0; i < st->n_pos; i++)
        st->pos[i].budget = abs64(st->pos[i].qty);
    for (int i = 0; i < st->n_ord; i++) {
        struct market_order *o = &st->ord[i];
        const struct market_instr *ins = market_instr_get(st, o->instr);
        struct market_pos *p;
        struct market_acct *a;
        struct market_cost c;
        int64_t closable, rem, eff;

        if (o->status != MARKET_LIVE)
            continue;
        o->res_usd = o->res_btc = 0;
        if (!ins || !ins->open) {
            market_order_end(x, o, MARKET_CANCELLED, "instrument_closed");
            continue;
        }
        p = market_pos_at(x, o->account, o->instr);
        closable = (o->side == MARKET_BUY) == (p->qty < 0) && p->qty != 0 ? p->budget : 0;
        if (o->reduce_only) {
            if (closable == 0) {
                market_order_end(x, o, MARKET_CANCELLED, "nothing_to_reduce");
                continue;
            }
            /* Reduce-only orders shrink to what is left to reduce. */
            if (o->qty - o->filled > closable)
                o->qty = o->filled + closable;
        }
        rem = o->qty - o->filled;
        eff = p->qty > 0 ? p->budget : -p->budget;
        c = market_order_cost(&st->p, ins, (enum market_side)o->side, rem, o->limit, o->reduce_only,
                              o->leverage, x->env->fair, eff);
        a = market_acct_at(x, o->account);
        if (cancel_uncovered && (a->res_usd + c.usd > a->usd || a->res_btc + c.btc > a->btc)) {
            market_order_end(x, o, MARKET_CANCELLED, "insufficient_funds");
            continue;
        }
        p->budget -= rem < closable ? rem : closable;
        o->res_usd = c.usd;
        o->res_btc = c.btc;
        a->res_usd += c.usd;
        a->res_btc += c.btc;
    }
}

void market_perp_health(const struct market_state *st, const struct market_pos *pos, int64_t mark,
                        int64_t *equity, int64_t *maintenance)
{
    *equity = pos->margin + market_floor_div((i128)pos->qty * mark - pos->cost, MARKET_SATS);
    *maintenance =
        market_muldiv_up(market_notional_up(abs64(pos->qty), mark), st->p.mmr_ppm, MARKET_PPM);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void market_funding(struct market_tick *x)
{
    struct market_state *st = x->st;
    int k = market_instr_index(st, MARKET_PERP_ID);
    int64_t fair = x->env->fair, epoch, avg, rate, paid = 0, recv = 0, bid, ask;

    if (k < 0 || fair <= 0)
        return;
    market_best(x, k, &bid, &ask);
    st->premium_sum_ppm += market_muldiv(bid > fair ? bid - fair : 0, MARKET_PPM, fair) -
                           market_muldiv(ask && ask < fair ? fair - ask : 0, MARKET_PPM, fair);
    st->premium_n++;
    epoch = x->env->game_s / st->p.funding_interval_s;
    if (st->funding_epoch < 0)
        st->funding_epoch = epoch;
    if (epoch <= st->funding_epoch)
        return;
    avg = st->premium_sum_ppm / st->premium_n;
    rate = avg + clamp(st->p.interest_ppm - avg, -st->p.premium_clamp_ppm, st->p.premium_clamp_ppm);
    rate = clamp(rate, -st->p.funding_cap_ppm, st->p.funding_cap_ppm);
    for (int i = 0; i < st->n_pos && rate != 0; i++) {
        struct market_pos *p = &st->pos[i];
        i128 num;
        int64_t amt;
        bool payer;

        if (p->instr != MARKET_PERP_ID || p->qty == 0)
            continue;
        num = (i128)abs64(p->qty) * fair * abs64(rate);
        payer = (rate > 0) == (p->qty > 0);
        amt = (int64_t)(payer ? (num + MARKET_SATS * MARKET_PPM - 1) / (MARKET_SATS * MARKET_PPM)
                              : num / (MARKET_SATS * MARKET_PPM));
        if (payer) {
            paid += amt;
            p->funding -= amt;
            if (market_is_house(p->account))
                market_xfer(x, p->account, MARKET_ACCT_CLEARING, MARKET_USD, amt, MARKET_X_FUNDING,
                            MARKET_PERP_ID);
            else
                p->margin -= amt;
        } else {
            recv += amt;
            p->funding += amt;
            if (market_is_house(p->account))
                market_xfer(x, MARKET_ACCT_CLEARING, p->account, MARKET_USD, amt, MARKET_X_FUNDING,
                            MARKET_PERP_ID);
            else
                p->margin += amt;
        }
    }
    BT_ASSERT(paid >= recv);
    market_xfer(x, MARKET_ACCT_CLEARING, MARKET_ACCT_FEES, MARKET_USD, paid - recv, MARKET_X_DUST,
                MARKET_PERP_ID);
    x->out->funded = true;
    x->out->funding_rate_ppm = rate;
    st->funding_rate_ppm = rate;
    st->premium_sum_ppm = st->premium_n = 0;
    st->funding_epoch = epoch;
}

static void alert(struct market_tick *x, const struct market_pos *p, enum market_alert_kind k,
                  int64_t equity, int64_t maint, int64_t price)
{
    struct market_alert *a = MARKET_PUSH(x, x->out, alerts);

    *a = (struct market_alert){p->account, p->instr, k, p->qty, equity, maint, price};
}

static void liquidate(struct market_tick *x, int i, int64_t equity, int64_t maint)
{
    struct market_state *st = x->st;
    struct market_pos *p = &st->pos[i];
    const struct market_instr *perp = market_instr_get(st, MARKET_PERP_ID);
    int64_t qty = p->qty, margin = p->margin, account = p->account, bankrupt;
    struct market_fill *f;

    /* Bankruptcy price: margin + (qty * bk - cost) / 1e8 = 0. */
    bankrupt = (int64_t)((p->cost - (i128)margin * MARKET_SATS) / qty);
    alert(x, p, MARKET_ALERT_LIQUIDATED, equity, maint, bankrupt);
    p->qty = 0;
    p->cost = 0;
    p->margin = 0;
    p->called = false;
    if (equity > 0)
        market_xfer(x, MARKET_ACCT_CLEARING, MARKET_ACCT_INSURANCE, MARKET_USD, equity,
                    MARKET_X_INSURANCE, MARKET_PERP_ID);
    else
        market_xfer(x, MARKET_ACCT_INSURANCE, MARKET_ACCT_CLEARING, MARKET_USD, -equity,
                    MARKET_X_INSURANCE, MARKET_PERP_ID);
    f = MARKET_PUSH(x, x->out, fills);
    *f = (struct market_fill){
        0,        account, MARKET_PERP_ID, qty > 0 ? MARKET_SELL : MARKET_BUY, abs64(qty),
        bankrupt, 0,       -margin};
    /* p may move: market_pos_fill can grow the positions array. */
    market_pos_fill(x, MARKET_ACCT_MM, perp, qty > 0 ? MARKET_BUY : MARKET_SELL, abs64(qty),
                    x->env->fair, 1, MARKET_PERP_ID);
}

void market_liquidate(struct market_tick *x)
{
    struct market_state *st = x->st;
    int n = st->n_pos;

    for (int i = 0; i < n; i++) {
        struct market_pos *p = &st->pos[i];
        int64_t equity, maint;

        if (p->instr != MARKET_PERP_ID || p->qty == 0 || market_is_house(p->account))
            continue;
        market_perp_health(st, p, x->env->fair, &equity, &maint);
        if (equity < maint) {
            liquidate(x, i, equity, maint);
        } else if (equity < market_muldiv(maint, st->p.call_ppm, MARKET_PPM)) {
            if (!p->called)
                alert(x, p, MARKET_ALERT_MARGIN_CALL, equity, maint, x->env->fair);
            p->called = true;
        } else {
            p->called = false;
        }
    }
}
