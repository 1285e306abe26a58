//! Traditional characters read as their simplified forms, so that `已經解決`, `非常滿意` and
//! `別再發了` read as `已经解决`, `非常满意` and `别再发了`.
//!
//! A table, not a converter crate: the maintained pure-Rust OpenCC port (`ferrous-opencc`)
//! brings megabytes of phrase dictionaries and a build-time compiler, and the small
//! `simplet2s` is unmaintained (phf 0.8, lazy_static). A reply is only ever matched against
//! the parser's own words (answers, labels, stop phrases, units) and configured labels; a
//! remark is stored as written. So the table holds the one-to-one traditional forms of the
//! characters customers write in survey replies, and a character it lacks stays as it is.

use std::{collections::HashMap, sync::LazyLock};

/// `TRADITIONAL[i]` is written `SIMPLIFIED[i]` in simplified Chinese.
const TRADITIONAL: &str = concat!(
    "別發髮簡訊擾騷訂閱請聯繫係問這個為麼還讓後給資謝對決經沒滿願較條號碼顆評價級數點",
    "兩鐘鍾時歲塊錢單筆週來會應該說覺嗎們務態業專難過錯壞爛幫無處辦況實際雖長間電話轉",
    "帳賬戶錄陸確認證驗輸題總種樣從與覆復複準預約歡親愛極優質員聽見視關開門閉斷線網絡",
    "統機構體調結續終並盡儘僅啟啓動惡氣煩擔憂慮鬆銷賣買貨費貴賠償額餘帶將導層屬歸換掛",
    "據擇護誤課談讀識記設許訴詢諮詳試語誰論議變讚贊負責財貼購賴趕車軟輕連進運達違遠適",
    "選遲邊醫釋銀鍵鎖閃閒隊隨險雜離靜順須頓領頻類顧顯風飛騙驚髒鬧現東書張學寫聲熱緊練",
    "組紅範節廣場報團圖國區協參歷壓頁頭腦興舉舊術裡裏補規觀計討訓託誠豐贏遞遺鐵闆陽隻",
    "雙靈響頂項飯館馬麗黃億兒內凍則剛創劃勞勢勵匯卻廠厲嚴圍執夠夢媽寧審寶師幣幹庫廢彈",
    "強憑懷慣憶戲戰擁撥損搶擊敗於暫榮標樂檢權殘殺毀滅漲濟灣爭獎獨獲環產畫異當療盤監礙",
    "禮穩窮簽紀紙細紹絕維綁緩編績繼繳罰義聞職脫藥衝觸誇謂謹譯貸賞贈軍載輛輪郵錶鑰隱雲",
    "顏飲餓鬥麵黨嘆嘗嚇喚萬擋戀沖幾樓燈爾牆獸瑪禱稱穫紐絲綫緣縣繩羨聖臺檯颱藝蘇虧蟲衆",
    "襪訪詐詩誕諾謀貿賀賜賺躍軌輩辭農遊醜釣鍋鏡閑陣雞靂韋頒頸飄騎驟鬍魯鳳鴨鹽齡龍龜拋",
    "擬撿擠擴攤敘斬暢曬棄楊槍樞橋橫檔櫃歐殼氫洩淚淨淺測湯溝滯漸潑潛澤濕濫灑灘烏煙燒營",
    "燦爺犧猶獅瑣璽甦畝疊瘋癮盜瞭矯碩磚礎禪穀窩竊競筍箏篩簫籃籌糾紋紛紡紮絨綜綠緒締縫",
    "繪纏缽罷羅習聰肅脅脹腫膚膠臉臘艙艦艷莊華萊葉蒼蓋蓮薦薩藍蘋蘭蝦蠟衛裝製襯覽訃訝詞",
    "詭誌誘諒諷謎謙講謠譜譽豬貓貝貞貫貶賄賊賓賦賭賽贖趨跡踐蹤軒輔輯轄迴逕遙遜邁鄭鄰醞",
    "釀鈔鈴銅鋒鋪錦鍊鍛鎮鏈鑑閣闊闖陰陳雛霧鞏韻頗頑頌頰顛颳餅饑駁駐駛騰驕驢鬱魚鮮鳥鳴",
    "鴻鵝鷹麥黴齊齒傳",
);
const SIMPLIFIED: &str = concat!(
    "别发发简讯扰骚订阅请联系系问这个为么还让后给资谢对决经没满愿较条号码颗评价级数点",
    "两钟钟时岁块钱单笔周来会应该说觉吗们务态业专难过错坏烂帮无处办况实际虽长间电话转",
    "账账户录陆确认证验输题总种样从与复复复准预约欢亲爱极优质员听见视关开门闭断线网络",
    "统机构体调结续终并尽尽仅启启动恶气烦担忧虑松销卖买货费贵赔偿额余带将导层属归换挂",
    "据择护误课谈读识记设许诉询咨详试语谁论议变赞赞负责财贴购赖赶车软轻连进运达违远适",
    "选迟边医释银键锁闪闲队随险杂离静顺须顿领频类顾显风飞骗惊脏闹现东书张学写声热紧练",
    "组红范节广场报团图国区协参历压页头脑兴举旧术里里补规观计讨训托诚丰赢递遗铁板阳只",
    "双灵响顶项饭馆马丽黄亿儿内冻则刚创划劳势励汇却厂厉严围执够梦妈宁审宝师币干库废弹",
    "强凭怀惯忆戏战拥拨损抢击败于暂荣标乐检权残杀毁灭涨济湾争奖独获环产画异当疗盘监碍",
    "礼稳穷签纪纸细绍绝维绑缓编绩继缴罚义闻职脱药冲触夸谓谨译贷赏赠军载辆轮邮表钥隐云",
    "颜饮饿斗面党叹尝吓唤万挡恋冲几楼灯尔墙兽玛祷称获纽丝线缘县绳羡圣台台台艺苏亏虫众",
    "袜访诈诗诞诺谋贸贺赐赚跃轨辈辞农游丑钓锅镜闲阵鸡雳韦颁颈飘骑骤胡鲁凤鸭盐龄龙龟抛",
    "拟捡挤扩摊叙斩畅晒弃杨枪枢桥横档柜欧壳氢泄泪净浅测汤沟滞渐泼潜泽湿滥洒滩乌烟烧营",
    "灿爷牺犹狮琐玺苏亩叠疯瘾盗了矫硕砖础禅谷窝窃竞笋筝筛箫篮筹纠纹纷纺扎绒综绿绪缔缝",
    "绘缠钵罢罗习聪肃胁胀肿肤胶脸腊舱舰艳庄华莱叶苍盖莲荐萨蓝苹兰虾蜡卫装制衬览讣讶词",
    "诡志诱谅讽谜谦讲谣谱誉猪猫贝贞贯贬贿贼宾赋赌赛赎趋迹践踪轩辅辑辖回迳遥逊迈郑邻酝",
    "酿钞铃铜锋铺锦炼锻镇链鉴阁阔闯阴陈雏雾巩韵颇顽颂颊颠刮饼饥驳驻驶腾骄驴郁鱼鲜鸟鸣",
    "鸿鹅鹰麦霉齐齿传",
);

static TABLE: LazyLock<HashMap<char, char>> =
    LazyLock::new(|| TRADITIONAL.chars().zip(SIMPLIFIED.chars()).collect());

/// `c` in simplified form, or `c` itself.
pub(super) fn simplified(c: char) -> char {
    TABLE.get(&c).copied().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_pairs_one_character_with_one() {
        assert_eq!(TRADITIONAL.chars().count(), SIMPLIFIED.chars().count());
        assert_eq!(
            TABLE.len(),
            TRADITIONAL.chars().count(),
            "a character twice"
        );
    }

    #[test]
    fn folding_is_done_in_one_step() {
        for s in SIMPLIFIED.chars() {
            assert_eq!(simplified(s), s, "{s} is folded again");
        }
    }

    #[test]
    fn survey_words_fold() {
        let fold = |t: &str| t.chars().map(simplified).collect::<String>();
        assert_eq!(fold("已經解決了，謝謝"), "已经解决了，谢谢");
        assert_eq!(fold("非常不滿意"), "非常不满意");
        assert_eq!(fold("沒有，還是扣款失敗"), "没有，还是扣款失败");
        assert_eq!(fold("別再發簡訊給我"), "别再发简讯给我");
        assert_eq!(fold("五顆星"), "五颗星");
        assert_eq!(fold("5分"), "5分");
    }
}
